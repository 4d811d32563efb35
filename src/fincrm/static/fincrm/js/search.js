// "/" anywhere outside a field puts the cursor in the top bar's search box (issue 19).
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
    var box = document.getElementById("top-search");
    if (!box) { return; }
    event.preventDefault();
    box.focus();
  });
})();
