// The custom field form: shows only the sections that apply to the chosen type (the list
// options for a list, the currency for money …). Without this file every section shows, and
// the page still works: the server uses only what applies to the type.
(() => {
  "use strict";

  const sync = (form) => {
    const type = form.querySelector('select[name="type"]');
    if (!type) return;
    form.querySelectorAll("[data-types]").forEach((section) => {
      section.hidden = !section.dataset.types.split(" ").includes(type.value);
    });
  };

  const syncWithin = (root) => {
    if (!root || !root.querySelectorAll) return;
    const form = root.closest && root.closest("form[data-field-form]");
    if (form) sync(form);
    root.querySelectorAll("form[data-field-form]").forEach(sync);
  };

  document.addEventListener("change", (event) => {
    if (event.target.name !== "type") return;
    const form = event.target.closest("form[data-field-form]");
    if (form) sync(form);
  });
  document.addEventListener("htmx:load", (event) => syncWithin(event.detail.elt));
  document.addEventListener("DOMContentLoaded", () => syncWithin(document.body));
})();
