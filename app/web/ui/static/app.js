// Adds and removes rows of array fields (parties) and zooms diagrams; everything else works without JavaScript.
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target.classList.contains("add-row")) {
    var set = target.closest("fieldset[data-array]");
    var rows = set.querySelector(".rows");
    var html = set.querySelector("template").innerHTML.split("__index__").join(String(rows.children.length));
    rows.insertAdjacentHTML("beforeend", html);
  } else if (target.classList.contains("remove-row")) {
    var row = target.closest(".row-item");
    var holder = row.parentElement;
    row.remove();
    renumber(holder, holder.closest("fieldset[data-array]").getAttribute("data-array"));
  } else if (target.hasAttribute("data-zoom")) {
    var box = target.closest(".zoom-bar").nextElementSibling;
    if (box && box.classList.contains("svg-box")) zoom(box, target.getAttribute("data-zoom"));
  }
});

// A diagram is drawn at its natural size (the SVG's viewBox); zooming scales its width and height
// and keeps the part in the middle of the box in view.
function zoom(box, how) {
  var svg = box.querySelector("svg");
  if (!svg || !svg.viewBox || !svg.viewBox.baseVal || !svg.viewBox.baseVal.width) return;
  var view = svg.viewBox.baseVal;
  var before = parseFloat(box.getAttribute("data-scale") || "1");
  var scale = {
    "in": Math.min(before * 1.25, 4),
    "out": Math.max(before / 1.25, 0.1),
    "actual": 1,
    "fit": Math.min((box.clientWidth - 2) / view.width, 4)
  }[how];
  if (!scale) return;
  var middleX = (box.scrollLeft + box.clientWidth / 2) / before;
  var middleY = (box.scrollTop + box.clientHeight / 2) / before;
  svg.setAttribute("width", String(Math.round(view.width * scale)));
  svg.setAttribute("height", String(Math.round(view.height * scale)));
  box.setAttribute("data-scale", String(scale));
  box.scrollLeft = middleX * scale - box.clientWidth / 2;
  box.scrollTop = middleY * scale - box.clientHeight / 2;
}

function renumber(holder, base) {
  var pattern = new RegExp("^" + base.replace(/[.[\]]/g, "\\$&") + "\\[\\d+\\]");
  Array.prototype.forEach.call(holder.children, function (row, index) {
    row.querySelectorAll("[name]").forEach(function (input) {
      input.name = input.name.replace(pattern, base + "[" + index + "]");
    });
  });
}

// A diagram larger than its box opens on what the page is about: the first problem, change or waiting
// task is scrolled to the middle of the box (the box scrolls, not the page).
function focusMarked(box) {
  var svg = box.querySelector("svg");
  var marked = svg && svg.querySelector("g.el.error, g.el.changed, g.el.added, g.el.removed, g.el.active");
  if (!marked || !svg.viewBox || !svg.viewBox.baseVal || !svg.viewBox.baseVal.width) return;
  var view = svg.viewBox.baseVal;
  var scale = svg.getBoundingClientRect().width / view.width;
  var area = marked.getBBox();
  box.scrollLeft = (area.x - view.x + area.width / 2) * scale - box.clientWidth / 2;
  box.scrollTop = (area.y - view.y + area.height / 2) * scale - box.clientHeight / 2;
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".svg-box").forEach(focusMarked);
});
