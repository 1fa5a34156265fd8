// The designer workbench page: opens a draft's files in the editors of vendor/concord-workbench.js
// (bpmn-js with Concord's properties panel, dmn-js) or in the form editor, saves them to the draft,
// validates (problems listed and marked on the diagram, a click selects the element) and deploys.
(function () {
  "use strict";
  var root = document.getElementById("workbench");
  if (!root) return;
  var context = JSON.parse(root.getAttribute("data-context"));
  var csrf = document.getElementById("csrf").value;
  var english = context.language === "en";
  var t = function (zh, en) { return english ? en : zh; };
  var q = function (role) { return document.querySelector('[data-role="' + role + '"]'); };
  var state = { draft: null, current: null, editor: null, dirty: false, problems: [] };

  function request(url, body) {
    return fetch(url, {
      method: body === undefined ? "GET" : "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return { detail: response.statusText }; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || String(response.status));
          error.data = data;
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function status(text, kind) {
    var node = q("status");
    node.textContent = text;
    node.className = "wb-status" + (kind ? " " + kind : "");
  }

  function markDirty() {
    state.dirty = true;
    status(t("有未保存的修改", "unsaved changes"), "warn");
  }

  function kindOf(name) {
    if (/\.bpmn$/.test(name)) return "bpmn";
    if (/\.dmn$/.test(name)) return "dmn";
    return "json";
  }

  function listFiles() {
    var list = q("files");
    list.replaceChildren();
    Object.keys(state.draft.files).sort().forEach(function (name) {
      var item = document.createElement("li");
      var link = document.createElement("button");
      link.type = "button";
      link.className = "link" + (name === state.current ? " current" : "");
      link.textContent = name;
      link.setAttribute("data-file", name);
      link.addEventListener("click", function () { open(name); });
      item.append(link);
      list.append(item);
    });
  }

  function confirmLeave() {
    return !state.dirty || window.confirm(t("当前文件有未保存的修改，放弃这些修改吗？", "Discard the unsaved changes of this file?"));
  }

  function forms() {
    var names = Object.keys(state.draft.files);
    return {
      forms: names.filter(function (n) { return /\.schema\.json$/.test(n) && !/^message_/.test(n); }).sort(),
      uiForms: names.filter(function (n) { return /\.uischema\.json$/.test(n); }).sort(),
    };
  }

  function open(name, then) {
    if (name !== state.current && !confirmLeave()) return;
    var host = q("editor");
    var panel = q("panel");
    host.replaceChildren();
    panel.replaceChildren();
    state.current = name;
    state.dirty = false;
    state.editor = null;
    q("current").textContent = name;
    status("");
    listFiles();
    var kind = kindOf(name);
    var text = state.draft.files[name];
    var opened;
    if (kind === "bpmn") {
      var canvas = document.createElement("div");
      canvas.className = "wb-canvas";
      host.append(canvas);
      var choices = forms();
      opened = window.ConcordWorkbench.bpmn({
        canvas: canvas, panel: panel, xml: text,
        context: {
          forms: choices.forms, uiForms: choices.uiForms, groups: context.groups, statuses: context.statuses,
          procedures: context.procedures, language: context.language,
          checkExpression: function (code, what) { return request(context.urls.check, { text: code, kind: what }); },
        },
      });
    } else if (kind === "dmn") {
      var table = document.createElement("div");
      table.className = "wb-canvas wb-dmn";
      host.append(table);
      panel.append(note(t("在表格中直接编辑决策规则；保存后验证。", "Edit the decision rules in the table; save, then validate.")));
      opened = window.ConcordWorkbench.dmn({ container: table, xml: text });
    } else {
      opened = Promise.resolve(formEditor(host, panel, name));
    }
    opened.then(function (editor) {
      state.editor = editor;
      editor.onChange(markDirty);
      if (editor.warnings && editor.warnings.length) status(t("导入提示：", "Import notes: ") + editor.warnings.join("; "), "warn");
      showProblems();
      if (then) then(editor);
    }).catch(function (error) {
      host.replaceChildren(note(t("无法打开该文件：", "The file cannot be opened: ") + error.message, "error"));
    });
  }

  function note(text, kind) {
    var p = document.createElement("p");
    p.className = "wb-note" + (kind ? " " + kind : "");
    p.textContent = text;
    return p;
  }

  // Forms: the JSON Schema and its UI schema side by side, checked as you type, with a live preview
  // drawn by the server's form renderer (the one officers see).
  function formEditor(host, panel, name) {
    var pair = /\.schema\.json$/.test(name) ? name.replace(/\.schema\.json$/, ".uischema.json") : null;
    var isUi = /\.uischema\.json$/.test(name);
    var schemaName = isUi ? name.replace(/\.uischema\.json$/, ".schema.json") : name;
    var uiName = isUi ? name : pair;
    var grid = document.createElement("div");
    grid.className = "wb-form-editor";
    var schemaArea = area(state.draft.files[schemaName] || "{}", t("表单结构（JSON Schema）", "Form (JSON Schema)") + " · " + schemaName);
    var uiArea = uiName ? area(state.draft.files[uiName] || "{}", t("界面设置（UI schema）", "UI schema") + " · " + uiName) : null;
    grid.append(schemaArea.box);
    if (uiArea) grid.append(uiArea.box);
    host.append(grid);
    var preview = document.createElement("div");
    preview.className = "wb-preview";
    panel.append(heading(t("预览", "Preview")), preview);
    var callbacks = [];
    var timer = null;
    function check() {
      var schema = parse(schemaArea), ui = uiArea ? parse(uiArea) : {};
      if (schema === undefined || ui === undefined || !/\.schema\.json$/.test(schemaName)) return;
      request(context.urls.preview, { schema: schema, ui: ui }).then(function (result) {
        if (result.problems.length) {
          preview.replaceChildren(note(result.problems.join("; "), "error"));
        } else {
          preview.innerHTML = result.html; // drawn by the server's template, every value escaped there
        }
      }).catch(function (error) { preview.replaceChildren(note(error.message, "error")); });
    }
    [schemaArea, uiArea].forEach(function (part) {
      if (!part) return;
      part.text.addEventListener("input", function () {
        callbacks.forEach(function (callback) { callback(); });
        clearTimeout(timer);
        timer = setTimeout(check, 300);
      });
    });
    check();
    return {
      onChange: function (callback) { callbacks.push(callback); },
      mark: function () { return []; },
      select: function () { return false; },
      files: function () {
        var out = {};
        out[schemaName] = schemaArea.text.value;
        if (uiArea) out[uiName] = uiArea.text.value;
        return out;
      },
    };
  }

  function heading(text) {
    var h = document.createElement("h3");
    h.textContent = text;
    return h;
  }

  function area(value, label) {
    var box = document.createElement("label");
    box.className = "wb-json";
    var title = document.createElement("span");
    title.className = "label";
    title.textContent = label;
    var text = document.createElement("textarea");
    text.spellcheck = false;
    text.value = value;
    var message = document.createElement("small");
    message.className = "wb-check";
    box.append(title, text, message);
    return { box: box, text: text, message: message };
  }

  function parse(part) {
    try {
      var value = JSON.parse(part.text.value);
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(t("须为 JSON 对象", "must be a JSON object"));
      part.message.textContent = t("JSON 正确", "JSON is fine");
      part.message.className = "wb-check wb-ok";
      return value;
    } catch (error) {
      part.message.textContent = t("JSON 有误：", "JSON error: ") + error.message;
      part.message.className = "wb-check wb-bad";
      return undefined;
    }
  }

  function currentFiles() {
    if (!state.editor) return Promise.resolve({});
    if (state.editor.files) return Promise.resolve(state.editor.files());
    return state.editor.save().then(function (text) {
      var out = {};
      out[state.current] = text;
      return out;
    });
  }

  function save() {
    return currentFiles().then(function (files) {
      var names = Object.keys(files).filter(function (name) { return files[name] !== state.draft.files[name]; });
      return names.reduce(function (chain, name) {
        return chain.then(function () {
          return request(context.urls.save.replace("__name__", encodeURIComponent(name)),
            { text: files[name], revision: state.draft.revision }).then(function (summary) {
            state.draft.revision = summary.revision;
            state.draft.files[name] = files[name];
          });
        });
      }, Promise.resolve()).then(function () {
        state.dirty = false;
        status(t("草稿已保存（第 " + state.draft.revision + " 版）", "Draft saved (revision " + state.draft.revision + ")"), "ok");
        listFiles();
      });
    }).catch(function (error) {
      status((error.status === 409 ? t("保存冲突：", "Conflict: ") : t("未保存：", "Not saved: ")) + error.message, "error");
      throw error;
    });
  }

  function showProblems() {
    var box = q("problems");
    var list = box.querySelector("ul");
    list.replaceChildren();
    box.hidden = !state.problems.length;
    var marked = state.editor ? state.editor.mark(state.problems.filter(function (p) { return p.file === state.current; })) : [];
    state.problems.forEach(function (problem) {
      var item = document.createElement("li");
      item.className = "wb-problem " + problem.severity;
      item.setAttribute("data-element-id", problem.element_id || "");
      var where = [problem.file, problem.line ? t("第 " + problem.line + " 行", "line " + problem.line) : null, problem.element_id]
        .filter(Boolean).join(" · ");
      var label = document.createElement("button");
      label.type = "button";
      label.className = "link";
      label.textContent = (problem.severity === "error" ? "✖ " : "⚠ ") + (where ? where + "：" : "") + problem.message;
      label.addEventListener("click", function () { goTo(problem); });
      item.append(label);
      list.append(item);
    });
    return marked;
  }

  function goTo(problem) {
    var select = function (editor) { if (problem.element_id) editor.select(problem.element_id); };
    if (problem.file && problem.file !== state.current && state.draft.files[problem.file] !== undefined) {
      open(problem.file, select);
    } else if (state.editor) {
      select(state.editor);
    }
  }

  function validate() {
    return save().then(function () {
      status(t("验证中…", "validating…"));
      return request(context.urls.validate, {});
    }).then(function (report) {
      state.problems = report.errors.map(function (p) { return Object.assign({ severity: "error" }, p); })
        .concat(report.warnings.map(function (p) { return Object.assign({ severity: "warning" }, p); }));
      showProblems();
      status(report.valid ? t("验证通过", "valid") + (report.warnings.length ? t("（有 " + report.warnings.length + " 条提示）", " (" + report.warnings.length + " warnings)") : "")
        : t("发现 " + report.errors.length + " 个问题", report.errors.length + " problems found"), report.valid ? "ok" : "error");
      return report;
    });
  }

  function deploy() {
    validate().then(function (report) {
      if (!report.valid) return;
      if (!window.confirm(t("部署后新登记的案件将使用新版本。确定部署吗？", "New cases will use the new version. Deploy?"))) return;
      return request(context.urls.deploy, { revision: state.draft.revision }).then(function () {
        state.dirty = false;
        window.location.href = context.urls.designer;
      });
    }).catch(function (error) {
      if (error.data && error.data.errors) {
        state.problems = error.data.errors.map(function (p) { return Object.assign({ severity: "error" }, p); });
        showProblems();
      }
      status(error.message, "error");
    });
  }

  root.addEventListener("click", function (event) {
    var action = event.target.getAttribute && event.target.getAttribute("data-action");
    if (action === "save") save().catch(function () {});
    if (action === "validate") validate().catch(function () {});
    if (action === "deploy") deploy();
  });

  q("new-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var name = event.target.elements.name.value.trim();
    if (!/^[a-z0-9_]+\.schema\.json$/.test(name) || state.draft.files[name] !== undefined) {
      status(t("表单文件名须形如 my_step.schema.json 且不与已有文件重名", "A form's name looks like my_step.schema.json and is new"), "error");
      return;
    }
    var schema = JSON.stringify({ type: "object", title: name.replace(/\.schema\.json$/, ""), properties: {}, required: [] }, null, 2) + "\n";
    request(context.urls.save.replace("__name__", encodeURIComponent(name)), { text: schema, revision: state.draft.revision })
      .then(function (summary) {
        state.draft.revision = summary.revision;
        state.draft.files[name] = schema;
        event.target.reset();
        open(name);
      }).catch(function (error) { status(error.message, "error"); });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (state.dirty) event.preventDefault();
  });

  request(context.urls.data).then(function (draft) {
    state.draft = draft;
    listFiles();
    var first = Object.keys(draft.files).sort().find(function (name) { return kindOf(name) === "bpmn"; });
    if (first) open(first);
  }).catch(function (error) { status(error.message, "error"); });
})();
