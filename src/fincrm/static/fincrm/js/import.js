// Import preview: re-check when a column mapping changes; one click on "Import" imports once.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("import-mapping");
    if (!form) { return; }
    var remap = document.getElementById("import-remap");
    form.addEventListener("change", function (event) {
      if (event.target.tagName !== "SELECT" || !remap) { return; }
      if (form.requestSubmit) { form.requestSubmit(remap); } else { remap.click(); }
    });
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || button.value !== "import") { return; }
      // A disabled button is not submitted: carry its value in a hidden field instead.
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.value = "import";
      form.appendChild(action);
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy") || button.textContent;
    });
  });
})();
