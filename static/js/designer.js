// The process designer. Every edit is one htmx request that the server answers with the tree
// drawn again, or only with what changed, out of band (and, either way, the tree's state: the
// revision, and the place focus goes next); this file decides what to send, opens dialogs and
// menus, and puts focus where a person expects it. No framework: htmx and the DOM.
(() => {
  "use strict";

  const byId = (id) => document.getElementById(id);
  const revision = () => byId("draft-revision")?.value ?? "";

  let openMenu = null; // { menu, opener, choose }: the open "Add block" or "Insert value" menu
  let moving = null; // { name, url }: the block picked up with "Move to…"
  let dragged = null; // { type } dragged from the palette, or { url } of a dragged block

  /** One edit of the draft: the response replaces the tree, or its state and what changed. */
  const editTree = (url, values) =>
    htmx.ajax("POST", url, {
      target: "#tree",
      swap: "outerHTML",
      values: { revision: revision(), ...values },
    });

  const announce = (text) => {
    const status = byId("editor-status");
    if (!status || !text) return;
    status.textContent = "";
    window.setTimeout(() => {
      status.textContent = text;
    }, 60);
  };

  /** "block:NAME": a block (or branch) card; "slot:PARENT:INDEX": an insertion point;
   * "settings": the Settings button; "history:undo" or "history:redo": that button, or the
   * other one once there is nothing left to undo (or redo). */
  const focusTarget = (spec) => {
    if (!spec) return null;
    const [kind, ...rest] = spec.split(":");
    if (kind === "block") return byId(`block-${rest.join(":")}`);
    if (kind === "history") {
      const [first, second] = rest[0] === "undo" ? ["undo", "redo"] : ["redo", "undo"];
      return [byId(`history-${first}`), byId(`history-${second}`)].find((button) => button && !button.disabled);
    }
    if (kind === "slot") {
      const marked = document.querySelector(`[data-slot="${CSS.escape(rest.join(":"))}"]`);
      const index = Number(rest.pop());
      return marked || byId(`list-${rest.join(":")}`)?.querySelectorAll(":scope > .slot .add")[index];
    }
    if (kind === "settings") return document.querySelector("#editor-head a[hx-get]");
    return null;
  };

  const focusElement = (element) => {
    if (!element) return;
    element.focus();
    element.scrollIntoView({ block: "nearest", inline: "nearest" });
  };

  /** An insertion point's list, and how many come before it there: the drawing carries no
   * index, so that an edit need not draw the rest of the list again. */
  const placeOf = (slot) => ({
    parent: slot.dataset.parent,
    index: String([...slot.parentElement.children].filter((item) => item.matches(".slot")).indexOf(slot)),
  });

  // ---- the tree: after each swap ------------------------------------------------------------

  /** The template editor's tree keeps its state apart (``#tree-state``), the scenario editor's
   * on itself. */
  const treeLoaded = () => {
    const state = byId("tree-state") ?? byId("tree");
    if (moving) setMoving(null);
    announce(state.dataset.announce);
    const alert = state.querySelector(":scope > [role=alert]");
    if (alert) {
      alert.tabIndex = -1;
      focusElement(alert);
      return;
    }
    focusElement(focusTarget(state.dataset.focus));
  };

  // ---- dialogs ----------------------------------------------------------------------------------

  /** Cancelling the dialog of a block just inserted, never saved from it, takes the block
   * back where the server says (``data-discard-url``); any other dialog just closes. */
  const discardFresh = (dialog) => {
    const url = dialog.dataset.discardUrl;
    if (!url) return;
    delete dialog.dataset.discardUrl;
    dialog.dataset.returnFocus = ""; // the block is going: the response says where focus goes
    editTree(url, { revision: dialog.querySelector("input[name=revision]").value });
  };

  /** Focus returns where it was when the dialog opened (the button that opened it), unless the
   * dialog names its place (a block dialog: its block, drawn anew meanwhile). */
  const dialogLoaded = (dialog) => {
    const opener = dialog.contains(document.activeElement) ? null : document.activeElement;
    dialog.addEventListener("cancel", () => discardFresh(dialog)); // Escape
    dialog.addEventListener("close", () => {
      const named = focusTarget(dialog.dataset.returnFocus);
      if (dialog.id !== "editor-dialog") dialog.remove();
      focusElement(named || (opener?.isConnected ? opener : null));
    });
    if (!dialog.open) dialog.showModal();
    const alert = dialog.querySelector(".dialog-body [role=alert]");
    if (alert) alert.tabIndex = -1;
    const first =
      dialog.querySelector('[aria-invalid="true"]') ||
      alert ||
      dialog.querySelector("[autofocus]") ||
      dialog.querySelector(".dialog-body :is(input:not([type=hidden]), select, textarea)");
    first?.focus();
  };

  /** Tab and Shift+Tab go round inside an open modal dialog, never out to the browser's bar. */
  const focusable = (dialog) =>
    [...dialog.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")].filter(
      (element) => !element.disabled && element.tabIndex >= 0 && element.type !== "hidden" && element.getClientRects().length,
    );
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const dialog = document.querySelector("dialog[open]:modal");
    if (!dialog) return;
    const items = focusable(dialog);
    if (!items.length) return;
    const [first, last] = [items[0], items[items.length - 1]];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  });

  document.addEventListener("htmx:load", (event) => {
    const element = event.detail.elt;
    if (!(element instanceof Element)) return;
    if (element.id === "tree" || element.id === "tree-state") treeLoaded();
    if (element.matches("dialog[data-modal]")) dialogLoaded(element);
  });

  document.addEventListener("htmx:beforeRequest", () => {
    const toast = byId("editor-toast");
    if (toast) toast.hidden = true;
  });

  document.addEventListener("htmx:responseError", (event) => {
    const toast = byId("editor-toast");
    if (!toast) return;
    toast.textContent = toast.dataset.message.replace("%s", event.detail.xhr.status);
    toast.hidden = false;
  });

  // ---- menus: "Add block here" and "Insert value" ------------------------------------------

  const menuItems = (menu) => [...menu.querySelectorAll("[role=menuitem]")];

  const closeMenu = (restoreFocus) => {
    if (!openMenu) return;
    const { menu, opener } = openMenu;
    menu.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    openMenu = null;
    if (restoreFocus) opener.focus();
  };

  const showMenu = (menu, opener, choose) => {
    closeMenu(false);
    menu.hidden = false;
    // Fixed to the viewport (a dialog would clip it), below the opener or above if no room.
    const box = opener.getBoundingClientRect();
    const below = window.innerHeight - box.bottom - 12;
    const above = box.top - 12;
    const height = Math.min(menu.scrollHeight, 360, Math.max(below, above));
    menu.style.maxHeight = `${height}px`;
    const start = menu.dataset.align === "end" ? box.right - menu.offsetWidth : box.left;
    menu.style.left = `${Math.max(8, Math.min(start, window.innerWidth - menu.offsetWidth - 8))}px`;
    menu.style.top = `${below >= height ? box.bottom + 4 : box.top - height - 4}px`;
    opener.setAttribute("aria-expanded", "true");
    openMenu = { menu, opener, choose };
    typed = "";
    menuItems(menu)[0]?.focus();
  };

  const moveInMenu = (event) => {
    const items = menuItems(openMenu.menu);
    const index = items.indexOf(document.activeElement);
    const keys = {
      ArrowDown: (index + 1) % items.length,
      ArrowUp: (index - 1 + items.length) % items.length,
      Home: 0,
      End: items.length - 1,
    };
    if (event.key in keys) {
      items[keys[event.key]].focus();
    } else if (event.key === "Escape") {
      closeMenu(true);
    } else if (event.key === "Tab") {
      closeMenu(false);
      return;
    } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      typeAhead(items, index, event.key);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  };

  // Type-ahead: the letters typed in quick succession pick the next item they start; each menu
  // starts afresh, however soon it opens after the last one.
  let typed = "";
  let typedAt = 0;
  const typeAhead = (items, index, letter) => {
    const now = performance.now();
    if (now - typedAt > 700) typed = "";
    typedAt = now;
    typed += letter.toLowerCase();
    const from = typed.length > 1 ? index : index + 1;
    const order = [...items.slice(from), ...items.slice(0, from)];
    order.find((item) => item.textContent.trim().toLowerCase().startsWith(typed))?.focus();
  };

  /** Puts the ``{=…}`` token where the cursor was (a date input becomes text first). */
  const insertToken = (input, token) => {
    if (input.type === "date" || input.type === "datetime-local") {
      input.type = "text";
      input.value = "";
    }
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.setRangeText(token, start, end, "end");
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };

  // ---- moving a block with the keyboard: pick it up, then choose "Move here" ---------------

  // Only the insertion points stay in the tab order while a block is picked up.
  const setMoving = (block) => {
    const tree = byId("tree");
    moving = block ? { name: block.dataset.block, url: block.dataset.moveUrl } : null;
    tree.classList.toggle("moving", Boolean(block));
    tree.querySelectorAll('[data-action="move"]').forEach((button) => {
      button.setAttribute("aria-pressed", String(button.closest(".block") === block));
    });
    const handle = block?.querySelector('[data-action="move"]');
    tree.querySelectorAll(".block, .block-actions button, .add-branch").forEach((element) => {
      if (block) {
        if (element !== handle) element.tabIndex = -1;
      } else if (element.matches(".block")) {
        element.tabIndex = 0;
      } else {
        element.removeAttribute("tabindex");
      }
    });
    const label = block ? tree.dataset.moveHere : tree.dataset.addHere;
    tree.querySelectorAll(".slot .add").forEach((slot) => {
      slot.setAttribute("aria-label", label);
      slot.title = label;
    });
  };

  const startMoving = (block) => {
    setMoving(block);
    announce(byId("tree").dataset.moving.replace("%s", block.querySelector(".block-title").textContent));
    byId("tree").querySelector(".slot .add")?.focus();
  };

  const stopMoving = () => {
    const block = byId(`block-${moving.name}`);
    setMoving(null);
    focusElement(block);
  };

  const firstControl = (row) =>
    [...row.querySelectorAll("input:not([type=hidden]), select, textarea")].find((control) =>
      control.checkVisibility({ visibilityProperty: true }),
    );

  // ---- clicks -----------------------------------------------------------------------------

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;

    const item = target.closest("[role=menuitem]");
    if (item && openMenu && openMenu.menu.contains(item)) {
      const { choose } = openMenu;
      closeMenu(false);
      choose(item);
      return;
    }
    if (openMenu && !openMenu.menu.contains(target)) closeMenu(false);

    const slot = target.closest(".slot .add");
    if (slot) {
      const place = placeOf(slot.closest(".slot"));
      if (moving) {
        editTree(moving.url, { parent: place.parent, index: place.index });
        return;
      }
      showMenu(byId("insert-menu"), slot, (chosen) =>
        editTree(byId("tree").dataset.insertUrl, {
          parent: place.parent,
          index: place.index,
          type: chosen.dataset.type,
        }),
      );
      return;
    }

    const insertValue = target.closest(".insert-value");
    if (insertValue) {
      const menu = insertValue.closest("dialog").querySelector(".value-menu");
      showMenu(menu, insertValue, (chosen) =>
        insertToken(byId(insertValue.dataset.insertInto), chosen.dataset.token),
      );
      return;
    }

    const paletteItem = target.closest(".palette-item");
    if (paletteItem) {
      // Pressed rather than dragged: the block goes to the end of the process.
      const last = byId("tree").querySelector('[data-container="Template"] > .slot:last-child');
      editTree(byId("tree").dataset.insertUrl, { ...placeOf(last), type: paletteItem.dataset.type });
      return;
    }

    const moveButton = target.closest('[data-action="move"]');
    if (moveButton) {
      if (moving) stopMoving();
      else startMoving(moveButton.closest(".block"));
      return;
    }

    const close = target.closest("[data-close]");
    if (close && close.closest("dialog")?.open) {
      event.preventDefault();
      discardFresh(close.closest("dialog"));
      close.closest("dialog").close();
      return;
    }

    const problem = target.closest("a[data-focus-block]");
    if (problem) {
      event.preventDefault();
      const block = byId(`block-${problem.dataset.focusBlock}`);
      focusElement(block);
      block?.scrollIntoView({ block: "center" });
      return;
    }

    const addRow = target.closest("[data-add-row]");
    if (addRow) {
      const field = addRow.closest("fieldset");
      const html = field.querySelector("template[data-row-template]").innerHTML;
      const rows = field.querySelector("[data-rows]");
      const holder = document.createElement(rows.tagName === "TBODY" ? "tbody" : "ol");
      holder.innerHTML = html.replaceAll("__n__", String(Date.now() + rows.children.length));
      const row = holder.firstElementChild;
      rows.append(row);
      firstControl(row)?.focus();
      return;
    }

    const removeRow = target.closest("[data-remove-row]");
    if (removeRow) {
      const row = removeRow.closest(".row");
      const next = row.nextElementSibling || row.previousElementSibling;
      const fallback = row.closest("fieldset").querySelector("[data-add-row]");
      row.remove();
      ((next && firstControl(next)) || fallback).focus();
    }
  });

  // ---- the keyboard -----------------------------------------------------------------------

  const SHORTCUTS = {
    Enter: "edit",
    Delete: "delete",
    "Alt+ArrowUp": "up",
    "Alt+ArrowLeft": "up",
    "Alt+ArrowDown": "down",
    "Alt+ArrowRight": "down",
  };

  /** Ctrl+Z, Ctrl+Shift+Z (or Ctrl+Y): undo and redo, except where the browser undoes typing
   * (a field) and inside a dialog. */
  const historyKey = (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return null;
    const key = event.key.toLowerCase();
    if (key === "y" && !event.shiftKey) return "redo";
    if (key !== "z") return null;
    return event.shiftKey ? "redo" : "undo";
  };

  document.addEventListener("keydown", (event) => {
    if (openMenu && openMenu.menu.contains(event.target)) {
      moveInMenu(event);
      return;
    }
    const history = historyKey(event);
    const inField = event.target instanceof Element && event.target.closest("input, textarea, select, [contenteditable], dialog");
    if (history && !inField) {
      const button = byId(`history-${history}`);
      if (button) {
        event.preventDefault();
        // Sent directly: a button just swapped in may not be wired by htmx yet.
        if (!button.disabled) editTree(button.getAttribute("hx-post"), {});
      }
      return;
    }
    if (moving && event.key === "Escape") {
      event.preventDefault();
      stopMoving();
      return;
    }
    const block = event.target instanceof Element && event.target.matches(".block") ? event.target : null;
    if (!block) return;
    const key = `${event.altKey ? "Alt+" : ""}${event.key}`;
    const button = SHORTCUTS[key] && block.querySelector(`.block-actions [data-action="${SHORTCUTS[key]}"]`);
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });

  document.addEventListener("dblclick", (event) => {
    const block = event.target instanceof Element ? event.target.closest(".block") : null;
    if (block && !event.target.closest("button")) {
      block.querySelector('.block-actions [data-action="edit"]')?.click();
    }
  });

  // A row's value box offers the chosen field's options or people (a datalist), if it has any.
  document.addEventListener("change", (event) => {
    const picker = event.target.closest("select[data-value-key]");
    if (!picker) return;
    const box = picker.closest(".row").querySelector("input[data-value-box]");
    const list = [...picker.closest("fieldset").querySelectorAll("datalist[data-keys]")].find(
      (candidate) => candidate.dataset.keys.split(" ").includes(picker.value),
    );
    if (list) box.setAttribute("list", list.id);
    else box.removeAttribute("list");
  });

  // ---- the palette: search, and drag and drop ---------------------------------------------

  document.addEventListener("input", (event) => {
    if (event.target.id !== "palette-search") return;
    const words = event.target.value.trim().toLowerCase();
    let shown = 0;
    document.querySelectorAll(".palette-group").forEach((group) => {
      let inGroup = 0;
      group.querySelectorAll(".palette-item").forEach((item) => {
        const match = item.textContent.toLowerCase().includes(words);
        item.parentElement.hidden = !match;
        inGroup += match ? 1 : 0;
      });
      group.hidden = inGroup === 0;
      shown += inGroup;
    });
    document.querySelector("[data-palette-empty]").hidden = shown > 0;
  });

  document.addEventListener("dragstart", (event) => {
    const source = event.target instanceof Element ? event.target : null;
    const paletteItem = source?.closest(".palette-item");
    const block = source?.closest(".block[draggable=true]");
    if (paletteItem) {
      dragged = { type: paletteItem.dataset.type };
      event.dataTransfer.effectAllowed = "copy";
    } else if (block) {
      dragged = { url: block.dataset.moveUrl };
      event.dataTransfer.effectAllowed = "move";
    } else {
      return;
    }
    event.dataTransfer.setData("text/plain", paletteItem ? dragged.type : block.dataset.block);
    byId("tree").classList.add("dragging");
  });

  document.addEventListener("dragover", (event) => {
    const slot = dragged && event.target instanceof Element ? event.target.closest(".slot") : null;
    if (!slot) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = dragged.type ? "copy" : "move";
    document.querySelectorAll(".slot.drop-target").forEach((other) => other.classList.remove("drop-target"));
    slot.classList.add("drop-target");
  });

  document.addEventListener("drop", (event) => {
    const slot = dragged && event.target instanceof Element ? event.target.closest(".slot") : null;
    if (!slot) return;
    event.preventDefault();
    const { parent, index } = placeOf(slot);
    if (dragged.type) {
      editTree(byId("tree").dataset.insertUrl, { parent, index, type: dragged.type });
    } else {
      editTree(dragged.url, { parent, index });
    }
    dragged = null;
  });

  document.addEventListener("dragend", () => {
    dragged = null;
    byId("tree")?.classList.remove("dragging");
    document.querySelectorAll(".slot.drop-target").forEach((slot) => slot.classList.remove("drop-target"));
  });
})();
