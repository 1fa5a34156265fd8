// The designer workbench's editors, bundled into app/web/ui/static/vendor/concord-workbench.js:
// window.ConcordWorkbench.bpmn(...) opens a diagram in bpmn-js with Concord's properties panel,
// window.ConcordWorkbench.dmn(...) opens a decision table in dmn-js. The page script (designer-workbench.js)
// does the rest: loading and saving the draft's files, validating, deploying.

import BpmnModeler from 'bpmn-js/lib/Modeler';
import DmnModeler from 'dmn-js/lib/Modeler';

import spiffworkflow from './spiffworkflow.json';
import { ConcordPanel } from './panel.js';

const PROBLEM_MARKER = 'concord-problem';

async function bpmn({ canvas, panel, xml, context }) {
  const modeler = new BpmnModeler({ container: canvas, moddleExtensions: { spiffworkflow } });
  const { warnings } = await modeler.importXML(xml);
  modeler.get('canvas').zoom('fit-viewport');
  const properties = new ConcordPanel(modeler, panel, context);
  let marked = [];
  return {
    modeler,
    warnings: warnings.map((warning) => warning.message),
    save: async () => (await modeler.saveXML({ format: true })).xml,
    onChange: (callback) => modeler.on('commandStack.changed', callback),
    // Problems from validate/dry run: marked on the canvas; selecting one scrolls to it and opens its properties.
    mark(problems) {
      const registry = modeler.get('elementRegistry');
      const view = modeler.get('canvas');
      marked.forEach((id) => registry.get(id) && view.removeMarker(id, PROBLEM_MARKER));
      marked = problems.map((problem) => problem.element_id).filter((id) => id && registry.get(id));
      marked.forEach((id) => view.addMarker(id, PROBLEM_MARKER));
      return marked;
    },
    select(id) {
      const element = modeler.get('elementRegistry').get(id);
      if (!element) return false;
      modeler.get('canvas').scrollToElement(element);
      modeler.get('selection').select(element);
      properties.show(element);
      return true;
    },
  };
}

async function dmn({ container, xml }) {
  const modeler = new DmnModeler({ container, common: { keyboard: { bindTo: window } } });
  const { warnings } = await modeler.importXML(xml);
  const decisionTable = modeler.getViews().find((view) => view.type === 'decisionTable');
  if (decisionTable) await modeler.open(decisionTable);
  let changed = () => {};
  const listen = () => {
    const viewer = modeler.getActiveViewer();
    if (viewer) viewer.on('commandStack.changed', () => changed());
  };
  modeler.on('views.changed', listen);
  listen();
  return {
    modeler,
    warnings: warnings.map((warning) => warning.message),
    save: async () => (await modeler.saveXML({ format: true })).xml,
    onChange: (callback) => { changed = callback; },
    mark: () => [],
    select: () => false,
  };
}

window.ConcordWorkbench = { bpmn, dmn };
