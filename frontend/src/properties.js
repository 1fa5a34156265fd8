// Reading and writing Concord's properties on a BPMN element: the <spiffworkflow:properties> list and the
// script bodies SpiffWorkflow reads (app/engine/runner.py). Every write goes through bpmn-js' modeling
// commands so that undo/redo and the "changed" state see it.

const PROPERTIES = 'spiffworkflow:Properties';

function extensionValues(bo) {
  return (bo.extensionElements && bo.extensionElements.get('values')) || [];
}

function propertyList(bo) {
  return extensionValues(bo).find((value) => value.$type === PROPERTIES);
}

export function getProperty(bo, name) {
  const list = propertyList(bo);
  const item = list && list.get('properties').find((property) => property.name === name);
  return item ? item.value : undefined;
}

function ensureExtensionElements(modeler, element) {
  const bo = element.businessObject;
  if (!bo.extensionElements) {
    const extension = modeler.get('moddle').create('bpmn:ExtensionElements', { values: [] });
    modeler.get('modeling').updateProperties(element, { extensionElements: extension });
  }
  return bo.extensionElements;
}

function ensurePropertyList(modeler, element) {
  const extension = ensureExtensionElements(modeler, element);
  let list = propertyList(element.businessObject);
  if (!list) {
    list = modeler.get('moddle').create(PROPERTIES, { properties: [] });
    modeler.get('modeling').updateModdleProperties(element, extension, { values: [...extension.get('values'), list] });
  }
  return list;
}

// An empty value removes the property: an absent timeLimit means "no limit", not a limit of "".
export function setProperty(modeler, element, name, value) {
  const modeling = modeler.get('modeling');
  const existing = propertyList(element.businessObject);
  const item = existing && existing.get('properties').find((property) => property.name === name);
  if (value === undefined || value === null || value === '') {
    if (item) {
      modeling.updateModdleProperties(element, existing, {
        properties: existing.get('properties').filter((property) => property !== item),
      });
    }
    return;
  }
  if (item) {
    modeling.updateModdleProperties(element, item, { value });
    return;
  }
  const list = ensurePropertyList(modeler, element);
  const created = modeler.get('moddle').create('spiffworkflow:Property', { name, value });
  modeling.updateModdleProperties(element, list, { properties: [...list.get('properties'), created] });
}

// preScript / postScript: a body element of its own, e.g. <spiffworkflow:postScript>…</spiffworkflow:postScript>.
export function getBody(bo, type) {
  const item = extensionValues(bo).find((value) => value.$type === type);
  return item ? item.value || '' : '';
}

export function setBody(modeler, element, type, text) {
  const modeling = modeler.get('modeling');
  const bo = element.businessObject;
  const item = extensionValues(bo).find((value) => value.$type === type);
  if (!text) {
    if (item) {
      modeling.updateModdleProperties(element, bo.extensionElements, {
        values: extensionValues(bo).filter((value) => value !== item),
      });
    }
    return;
  }
  if (item) {
    modeling.updateModdleProperties(element, item, { value: text });
    return;
  }
  const extension = ensureExtensionElements(modeler, element);
  const created = modeler.get('moddle').create(type, { value: text });
  modeling.updateModdleProperties(element, extension, { values: [...extension.get('values'), created] });
}

// Concord's property values are Python expressions: "P7D" (with the quotes) is a fixed value, anything
// else is computed from case data. The panel offers a chooser for fixed values and a text box otherwise.
const STRING_LITERAL = /^"(?:[^"\\\n]|\\.)*"$/;

export function literalValue(expression) {
  if (expression === undefined || !STRING_LITERAL.test(expression.trim())) return undefined;
  try {
    return JSON.parse(expression.trim());
  } catch (error) {
    return undefined;
  }
}

export function asLiteral(text) {
  return text === '' ? '' : JSON.stringify(text);
}
