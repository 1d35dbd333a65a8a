// CRM pages: "select all on this page" for the list's bulk selection, the delete
// confirmation as a modal dialog, and menu buttons (the card's "Smart scenarios"). Every page
// works without this file, but for select-all and the menus.
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

  // ---- menu buttons (WAI-ARIA APG): a button with aria-haspopup="menu" opens the menu it
  // controls; arrows, Home, End and a first letter move among its items, Escape closes it and
  // gives focus back to the button, Tab or a click elsewhere closes it.

  const MENU_BUTTON = 'button[aria-haspopup="menu"][aria-controls]';
  const menuOf = (button) => document.getElementById(button.getAttribute("aria-controls"));
  const itemsOf = (menu) => [...menu.querySelectorAll('[role="menuitem"]')];
  let openButton = null;

  const closeMenu = (returnFocus) => {
    if (!openButton) return;
    const button = openButton;
    openButton = null;
    const menu = menuOf(button);
    if (menu) menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (returnFocus) button.focus();
  };

  const openMenu = (button, which) => {
    closeMenu(false);
    const menu = menuOf(button);
    if (!menu) return;
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    openButton = button;
    const items = itemsOf(menu);
    (which === "last" ? items[items.length - 1] : items[0])?.focus();
  };

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target?.closest(MENU_BUTTON);
    if (button) {
      if (openButton === button) closeMenu(true);
      else openMenu(button, "first"); // also Enter and Space, which click a button
      return;
    }
    if (openButton && !menuOf(openButton)?.contains(target)) closeMenu(false);
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target?.closest(MENU_BUTTON);
    if (button && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      openMenu(button, event.key === "ArrowUp" ? "last" : "first");
      return;
    }
    const menu = openButton && menuOf(openButton);
    if (!menu || !menu.contains(target)) return;
    const items = itemsOf(menu);
    const index = items.indexOf(target);
    const moves = {
      ArrowDown: (index + 1) % items.length,
      ArrowUp: (index - 1 + items.length) % items.length,
      Home: 0,
      End: items.length - 1,
    };
    if (event.key in moves) {
      items[moves[event.key]].focus();
    } else if (event.key === "Escape") {
      closeMenu(true);
    } else if (event.key === "Tab") {
      closeMenu(false);
      return;
    } else if (event.key === " " && target.matches("a[href]")) {
      target.click(); // Space activates an item as Enter does
    } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      const letter = event.key.toLowerCase();
      const order = [...items.slice(index + 1), ...items.slice(0, index + 1)];
      order.find((item) => item.textContent.trim().toLowerCase().startsWith(letter))?.focus();
    } else {
      return;
    }
    event.preventDefault();
  });
})();
