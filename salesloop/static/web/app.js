/* Salesloop UI glue: small, dependency-free, works offline. */
(function () {
  "use strict";

  // Close the global search dropdown on Escape or a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var box = document.getElementById("search-results");
      if (box) { box.innerHTML = ""; }
    }
  });
  document.addEventListener("click", function (event) {
    var box = document.getElementById("search-results");
    if (box && !event.target.closest(".sl-search")) { box.innerHTML = ""; }
  });

  // A list's page-size selector and filter form reload the list through htmx; keep the
  // address bar in step so that a reload or a shared link shows the same rows.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-sl-autosubmit]");
    if (select && select.form) { select.form.requestSubmit(); }
  });
})();
