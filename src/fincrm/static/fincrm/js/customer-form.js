// Shows the fields that belong to the chosen kind of client (company or individual).
(function () {
  "use strict";
  var COMPANY_ONLY = ["credit_code", "registered_capital", "founded_on", "employee_count"];
  var PERSON_ONLY = ["id_number", "birthday"];
  function apply() {
    var kind = document.getElementById("id_kind");
    if (!kind) { return; }
    var isPerson = kind.value === "person";
    COMPANY_ONLY.forEach(function (f) { toggle(f, !isPerson || !kind.value); });
    PERSON_ONLY.forEach(function (f) { toggle(f, isPerson || !kind.value); });
  }
  function toggle(name, show) {
    var el = document.querySelector('[data-field="' + name + '"]');
    if (el) { el.classList.toggle("hidden-by-kind", !show); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var kind = document.getElementById("id_kind");
    if (kind) { kind.addEventListener("change", apply); apply(); }
  });
})();
