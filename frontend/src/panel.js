// The properties panel: for the selected element, its name and the Concord properties the platform reads
// (form, candidateGroups, timeLimit, timeLimitCalendar, caseStatus, procedure, onComplete), script and
// condition text with a syntax check by the server. Plain DOM: the page's CSP allows no inline code.

import { asLiteral, getBody, getProperty, literalValue, setBody, setProperty } from './properties.js';
import { explainDuration } from './durations.js';

const FORM_HOLDERS = ['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:StartEvent'];
const TASKS = ['bpmn:UserTask', 'bpmn:ManualTask'];

function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'text') node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) node.append(child);
  return node;
}

function field(label, control, hint) {
  const wrapper = el('label', { class: 'wb-field' }, [el('span', { class: 'wb-label', text: label }), control]);
  if (hint) wrapper.append(hint);
  return wrapper;
}

function select(options, current, name) {
  const node = el('select', { name });
  for (const option of options) {
    node.append(el('option', { value: option.value, text: option.label, selected: option.value === current }));
  }
  return node;
}

export class ConcordPanel {
  constructor(modeler, container, context) {
    this.modeler = modeler;
    this.container = container;
    this.context = context; // {forms, uiForms, groups, statuses, procedures, checkExpression, language}
    this.t = (zh, en) => (context.language === 'en' ? en : zh);
    modeler.on('selection.changed', ({ newSelection }) => this.show(newSelection[0]));
    modeler.on('element.changed', ({ element }) => {
      if (this.element && element.id === this.element.id && !this.container.contains(document.activeElement)) {
        this.show(element);
      }
    });
    this.show(null);
  }

  show(element) {
    this.element = element;
    this.container.replaceChildren();
    if (!element) {
      this.container.append(el('p', { class: 'wb-empty', text: this.t('选择图中的元素以编辑其属性。', 'Select an element to edit its properties.') }));
      return;
    }
    const bo = element.businessObject;
    this.container.append(el('h3', { text: `${bo.name || bo.id}` }),
      el('p', { class: 'wb-type', text: `${bo.$type.replace('bpmn:', '')} · ${bo.id}` }));
    this.container.append(this.nameField(element));
    if (FORM_HOLDERS.includes(bo.$type)) this.container.append(this.formField(element));
    if (TASKS.includes(bo.$type)) {
      this.container.append(this.groupField(element), this.limitFields(element),
        this.literalChoice(element, 'caseStatus', this.t('案件状态', 'Case status'), this.context.statuses),
        this.literalChoice(element, 'procedure', this.t('程序', 'Procedure'), this.context.procedures),
        this.onCompleteField(element));
    }
    if (bo.$type === 'bpmn:ScriptTask') this.container.append(this.scriptField(element));
    if (bo.$type.endsWith('Task') || bo.$type === 'bpmn:StartEvent') {
      this.container.append(this.bodyField(element, 'spiffworkflow:PreScript', this.t('前置脚本', 'Pre-script')),
        this.bodyField(element, 'spiffworkflow:PostScript', this.t('后置脚本', 'Post-script')));
    }
    if (bo.$type === 'bpmn:SequenceFlow' && bo.sourceRef && /Gateway$/.test(bo.sourceRef.$type)) {
      this.container.append(this.conditionField(element));
    }
  }

  nameField(element) {
    const input = el('input', { type: 'text', name: 'name', value: element.businessObject.name || '' });
    input.addEventListener('change', () => this.modeler.get('modeling').updateProperties(element, { name: input.value }));
    return field(this.t('名称', 'Name'), input);
  }

  formField(element) {
    const current = getProperty(element.businessObject, 'formJsonSchemaFilename') || '';
    const options = [{ value: '', label: this.t('（无表单）', '(no form)') },
      ...this.context.forms.map((name) => ({ value: name, label: name }))];
    if (current && !this.context.forms.includes(current)) options.push({ value: current, label: `${current} ⚠` });
    const chooser = select(options, current, 'form');
    chooser.addEventListener('change', () => {
      const schema = chooser.value;
      const ui = schema.replace(/\.schema\.json$/, '.uischema.json');
      setProperty(this.modeler, element, 'formJsonSchemaFilename', schema);
      setProperty(this.modeler, element, 'formUiSchemaFilename', schema && this.context.uiForms.includes(ui) ? ui : '');
    });
    return field(this.t('表单', 'Form'), chooser);
  }

  // candidateGroups: the lane's group (no property), one group chosen from those that exist, or an expression.
  groupField(element) {
    const value = getProperty(element.businessObject, 'candidateGroups');
    const fixed = literalValue(value);
    const mode = value === undefined ? 'lane' : fixed !== undefined ? 'group' : 'expression';
    const modeChooser = select([
      { value: 'lane', label: this.t('按泳道', 'By lane') },
      { value: 'group', label: this.t('指定组', 'A group') },
      { value: 'expression', label: this.t('表达式', 'Expression') }], mode, 'candidateGroupsMode');
    const groups = select([{ value: '', label: this.t('（选择组）', '(choose a group)') },
      ...this.context.groups.map((group) => ({ value: group.key, label: `${group.name} (${group.key})` }))], fixed || '', 'candidateGroups');
    const expression = el('input', { type: 'text', name: 'candidateGroupsExpression', value: mode === 'expression' ? value : '' });
    const message = el('small', { class: 'wb-check' });
    const sync = () => {
      groups.hidden = modeChooser.value !== 'group';
      expression.hidden = modeChooser.value !== 'expression';
    };
    sync();
    modeChooser.addEventListener('change', () => {
      sync();
      if (modeChooser.value === 'lane') setProperty(this.modeler, element, 'candidateGroups', '');
    });
    groups.addEventListener('change', () => setProperty(this.modeler, element, 'candidateGroups', asLiteral(groups.value)));
    expression.addEventListener('change', () => this.checked(expression.value, 'expression', message,
      () => setProperty(this.modeler, element, 'candidateGroups', expression.value)));
    const box = el('div', { class: 'wb-inline' }, [modeChooser, groups, expression]);
    return field(this.t('办理组', 'Candidate groups'), box, message);
  }

  // timeLimit: a fixed duration ("P7D", explained as the centre counts it) or an expression over the case's
  // data (dispute_case's handling limit depends on the room and the complexity), checked by the server.
  limitFields(element) {
    const bo = element.businessObject;
    const limit = getProperty(bo, 'timeLimit');
    const calendarValue = literalValue(getProperty(bo, 'timeLimitCalendar')) || 'working';
    const fixed = literalValue(limit);
    const input = el('input', { type: 'text', name: 'timeLimit', placeholder: 'P7D', value: fixed !== undefined ? fixed : (limit || '') });
    const calendar = select([{ value: 'working', label: this.t('工作日', 'Working days') },
      { value: 'calendar', label: this.t('自然日', 'Calendar days') }], calendarValue, 'timeLimitCalendar');
    const explanation = el('small', { class: 'wb-check', 'data-role': 'limit-explanation' });
    const isDuration = (text) => /^P[0-9A-Z]*$/i.test(text); // else an expression (quotes, names, brackets)
    const explain = () => {
      const text = input.value.trim();
      if (text === '') {
        explanation.textContent = this.t('无时限', 'no time limit');
        explanation.className = 'wb-check';
        return true;
      }
      if (!isDuration(text)) {
        explanation.textContent = this.t('由案件数据计算的时限（表达式）', 'computed from case data (an expression)');
        explanation.className = 'wb-check';
        return true;
      }
      const result = explainDuration(text, calendar.value === 'working', this.context.language);
      explanation.textContent = result.text;
      explanation.className = result.ok ? 'wb-check' : 'wb-check wb-bad';
      return result.ok;
    };
    explain();
    input.addEventListener('input', explain);
    input.addEventListener('change', () => {
      const text = input.value.trim();
      if (text === '') {
        setProperty(this.modeler, element, 'timeLimit', '');
      } else if (isDuration(text)) {
        if (explain()) setProperty(this.modeler, element, 'timeLimit', asLiteral(text.toUpperCase()));
      } else {
        this.checked(text, 'expression', explanation, () => setProperty(this.modeler, element, 'timeLimit', text));
      }
    });
    calendar.addEventListener('change', () => {
      explain();
      setProperty(this.modeler, element, 'timeLimitCalendar', calendar.value === 'working' ? '' : asLiteral(calendar.value));
    });
    return el('div', {}, [field(this.t('时限', 'Time limit'), input, explanation),
      field(this.t('计时方式', 'Counted in'), calendar)]);
  }

  literalChoice(element, name, label, choices) {
    const value = getProperty(element.businessObject, name);
    const fixed = literalValue(value);
    const options = [{ value: '', label: this.t('（不设置）', '(not set)') }, ...choices.map((c) => ({ value: c.code, label: c.label }))];
    if (value !== undefined && fixed === undefined) options.push({ value: '__expression__', label: value });
    const chooser = select(options, fixed !== undefined ? fixed : (value !== undefined ? '__expression__' : ''), name);
    chooser.addEventListener('change', () => {
      if (chooser.value !== '__expression__') setProperty(this.modeler, element, name, asLiteral(chooser.value));
    });
    return field(label, chooser);
  }

  onCompleteField(element) {
    const value = getProperty(element.businessObject, 'onComplete') || '';
    const chooser = select([{ value: '', label: this.t('（无）', '(none)') },
      { value: 'supervision', label: this.t('督办处理（催办/挂牌）', 'Supervision (urge or list)') }], value, 'onComplete');
    chooser.addEventListener('change', () => setProperty(this.modeler, element, 'onComplete', chooser.value));
    return field(this.t('完成时', 'On completion'), chooser);
  }

  // Text is checked by the server (the same parser the engine uses) before it is written to the diagram.
  checked(text, kind, message, apply) {
    message.textContent = this.t('检查中…', 'checking…');
    message.className = 'wb-check';
    return this.context.checkExpression(text, kind).then((result) => {
      message.textContent = result.ok ? this.t('语法正确', 'syntax is fine') : result.message;
      message.className = result.ok ? 'wb-check wb-ok' : 'wb-check wb-bad';
      if (result.ok) apply();
    });
  }

  codeArea(name, value) {
    return el('textarea', { name, rows: '5', spellcheck: 'false', class: 'wb-code' }, [document.createTextNode(value)]);
  }

  scriptField(element) {
    const area = this.codeArea('script', element.businessObject.script || '');
    const message = el('small', { class: 'wb-check' });
    area.addEventListener('change', () => this.checked(area.value, 'script', message,
      () => this.modeler.get('modeling').updateProperties(element, { scriptFormat: 'python', script: area.value })));
    return field(this.t('脚本', 'Script'), area, message);
  }

  bodyField(element, type, label) {
    const area = this.codeArea(type.split(':')[1], getBody(element.businessObject, type));
    const message = el('small', { class: 'wb-check' });
    area.addEventListener('change', () => this.checked(area.value, 'script', message,
      () => setBody(this.modeler, element, type, area.value)));
    return field(label, area, message);
  }

  conditionField(element) {
    const condition = element.businessObject.conditionExpression;
    const area = this.codeArea('condition', condition ? condition.body || '' : '');
    const message = el('small', { class: 'wb-check' });
    area.addEventListener('change', () => this.checked(area.value, 'expression', message, () => {
      const modeling = this.modeler.get('modeling');
      if (!area.value.trim()) {
        modeling.updateProperties(element, { conditionExpression: undefined });
        return;
      }
      const expression = this.modeler.get('moddle').create('bpmn:FormalExpression', { body: area.value });
      modeling.updateProperties(element, { conditionExpression: expression });
    }));
    return field(this.t('条件', 'Condition'), area, message);
  }
}
