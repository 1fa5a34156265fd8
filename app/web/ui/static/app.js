// Adds and removes rows of array fields (parties); everything else works without JavaScript.
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
  }
});

function renumber(holder, base) {
  var pattern = new RegExp("^" + base.replace(/[.[\]]/g, "\\$&") + "\\[\\d+\\]");
  Array.prototype.forEach.call(holder.children, function (row, index) {
    row.querySelectorAll("[name]").forEach(function (input) {
      input.name = input.name.replace(pattern, base + "[" + index + "]");
    });
  });
}
