// CRM pages: "select all on this page" for the list's bulk selection, and the delete
// confirmation as a modal dialog. Every page works without this file, but for select-all.
(() => {
  "use strict";

  const updateSelection = (form) => {
    const boxes = [...form.querySelectorAll('input[name="ids"]')];
    const checked = boxes.filter((box) => box.checked).length;
    const all = form.querySelector("[data-select-page]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    const count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = String(checked);
  };

  document.addEventListener("change", (event) => {
    const box = event.target;
    const form = box.closest && box.closest("#bulk-actions");
    if (!form) return;
    if (box.matches("[data-select-page]")) {
      form.querySelectorAll('input[name="ids"]').forEach((item) => {
        item.checked = box.checked;
      });
    }
    updateSelection(form);
  });

  document.addEventListener("htmx:load", (event) => {
    const element = event.detail.elt;
    if (element.matches && element.matches("dialog[data-modal]")) {
      const opener = document.activeElement;
      element.addEventListener("close", () => {
        element.remove();
        if (opener && opener.isConnected) opener.focus();
      });
      element.showModal();
    }
  });
})();
