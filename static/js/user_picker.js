// The user picker (templates/accounts/user_picker.html): a WAI-ARIA combobox whose listbox shows
// the people found by name; a chosen person becomes a chip that posts their value (user_6), and
// the field shows names only. Where the field takes expressions the text box keeps what is
// typed that names nobody ({=…}) and posts it. Pickers come and go with htmx swaps: every
// listener sits on the document. No framework.
(() => {
  "use strict";

  const PICKER = "[data-user-picker]";
  // picker → { timer, controller, active, activateFirst, pending, enterPending }
  const states = new WeakMap();

  const stateOf = (picker) => {
    if (!states.has(picker)) {
      states.set(picker, { timer: 0, controller: null, active: -1, activateFirst: false, pending: false, enterPending: false });
    }
    return states.get(picker);
  };
  const boxOf = (picker) => picker.querySelector("[role=combobox]");
  const listOf = (picker) => picker.querySelector("[role=listbox]");
  const chipsOf = (picker) => picker.querySelector(".chips");
  const optionsOf = (picker) => [...listOf(picker).querySelectorAll("[role=option]")];
  const takesText = (picker) => picker.hasAttribute("data-free-text");
  const several = (picker) => picker.hasAttribute("data-multiple");
  const isOpen = (picker) => !listOf(picker).hidden;

  const say = (picker, text) => {
    const status = picker.querySelector("[data-picker-status]");
    status.textContent = "";
    if (text) window.setTimeout(() => (status.textContent = text), 50);
  };

  /** Where the searched words start in the text box, and the words; a field of several values
   * that takes expressions searches only what follows the last comma outside {…}, and nothing
   * when that is an expression or a stored value typed by hand. */
  const searched = (picker) => {
    const text = boxOf(picker).value;
    if (!takesText(picker)) return { start: 0, query: text.trim() };
    let depth = 0;
    let start = 0;
    [...text].forEach((char, index) => {
      if (char === "{") depth += 1;
      else if (char === "}") depth -= 1;
      else if (char === "," && depth <= 0) start = index + 1;
    });
    const query = text.slice(start).trim();
    return { start, query: /^(\{|=|user_\d)/.test(query) ? null : query };
  };

  // ---- the list ---------------------------------------------------------------------------

  const close = (picker) => {
    const state = stateOf(picker);
    window.clearTimeout(state.timer);
    state.controller?.abort();
    Object.assign(state, { active: -1, pending: false, enterPending: false });
    const list = listOf(picker);
    list.hidden = true;
    list.replaceChildren();
    // htmx copies the style of an element it swaps for one of the same id, as an attribute,
    // which the CSP refuses.
    list.removeAttribute("style");
    const box = boxOf(picker);
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  };

  /** Fixed to the viewport, under the picker's frame (above it when there is no room): a
   * dialog's body would clip it otherwise. */
  const place = (picker) => {
    const list = listOf(picker);
    const box = picker.getBoundingClientRect();
    const below = window.innerHeight - box.bottom - 8;
    const height = Math.min(list.scrollHeight, 300, Math.max(below, box.top - 8));
    list.style.maxHeight = `${height}px`;
    list.style.width = `${Math.max(box.width, 240)}px`;
    list.style.left = `${Math.max(8, Math.min(box.left, window.innerWidth - list.offsetWidth - 8))}px`;
    list.style.top = `${below >= height ? box.bottom + 2 : box.top - height - 2}px`;
  };

  const activate = (picker, index) => {
    const options = optionsOf(picker);
    const state = stateOf(picker);
    state.active = index;
    options.forEach((option, position) => {
      option.setAttribute("aria-selected", String(position === index));
    });
    const box = boxOf(picker);
    if (index < 0) {
      box.removeAttribute("aria-activedescendant");
      return;
    }
    box.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  };

  const show = (picker, options, message) => {
    const list = listOf(picker);
    const chosen = new Set([...chipsOf(picker).querySelectorAll(".chip")].map((chip) => chip.dataset.value));
    const offered = several(picker) ? options.filter((option) => !chosen.has(option.dataset.value)) : options;
    offered.forEach((option, index) => {
      option.id = `${list.id}-${index}`;
    });
    list.replaceChildren(...offered);
    const state = stateOf(picker);
    state.active = -1;
    list.hidden = offered.length === 0;
    boxOf(picker).setAttribute("aria-expanded", String(offered.length > 0));
    if (offered.length) place(picker);
    activate(picker, state.activateFirst && offered.length ? 0 : -1);
    const chooseNow = state.enterPending && state.active >= 0;
    Object.assign(state, { activateFirst: false, pending: false, enterPending: false });
    say(picker, message);
    // Enter pressed on the first person before the list came: they are chosen now.
    if (chooseNow) choose(picker, offered[state.active]);
  };

  /** The fixed choices ("Responsible for the item") whose name holds the words typed. */
  const fixedFor = (picker, query) => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const fixed = picker.querySelector("template[data-fixed]").content;
    return [...fixed.querySelectorAll("[role=option]")]
      .filter((option) => words.every((word) => option.dataset.name.toLowerCase().includes(word)))
      .map((option) => option.cloneNode(true));
  };

  const search = (picker) => {
    const state = stateOf(picker);
    const { query } = searched(picker);
    state.controller?.abort();
    if (query === null) {
      close(picker);
      return;
    }
    const fixed = fixedFor(picker, query);
    const url = picker.dataset.searchUrl;
    if (!url) {
      show(picker, fixed, "");
      return;
    }
    state.controller = new AbortController();
    state.pending = true;
    fetch(`${url}?q=${encodeURIComponent(query)}`, { signal: state.controller.signal, credentials: "same-origin" })
      .then((response) => {
        // Signed out meanwhile: the login page is not a list of people.
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.text();
      })
      .then((html) => {
        const found = document.createElement("template");
        found.innerHTML = html;
        const people = [...found.content.querySelectorAll("[role=option]")];
        show(picker, [...fixed, ...people], found.content.querySelector("[data-picker-message]")?.textContent ?? "");
      })
      .catch((error) => {
        if (error.name !== "AbortError") close(picker);
      });
  };

  const searchSoon = (picker) => {
    const state = stateOf(picker);
    window.clearTimeout(state.timer);
    state.pending = true;
    state.timer = window.setTimeout(() => search(picker), 150);
  };

  // ---- chips --------------------------------------------------------------------------------

  const chipFor = (picker, option) => {
    const { value, name, initials } = option.dataset;
    const chip = document.createElement("li");
    chip.className = "chip";
    chip.dataset.value = value;
    const avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = initials;
    const label = document.createElement("span");
    label.className = "chip-name";
    label.textContent = name;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chip-remove";
    remove.dataset.remove = "";
    remove.setAttribute("aria-label", picker.dataset.removeLabel.replace("%s", name));
    const cross = document.createElement("span");
    cross.setAttribute("aria-hidden", "true");
    cross.textContent = "×";
    remove.append(cross);
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = picker.dataset.name;
    input.value = value;
    chip.append(avatar, label, remove, input);
    return chip;
  };

  /** Tells the form a value changed (the CRM list's filters then apply it). */
  const changed = (picker) => picker.dispatchEvent(new Event("change", { bubbles: true }));

  const choose = (picker, option) => {
    const chips = chipsOf(picker);
    const box = boxOf(picker);
    if (!several(picker)) chips.replaceChildren();
    if (!chips.querySelector(`[data-value="${CSS.escape(option.dataset.value)}"]`)) {
      chips.append(chipFor(picker, option));
    }
    chips.hidden = false;
    // What was typed to find the person goes; the expressions before it stay.
    const { start } = searched(picker);
    box.value = takesText(picker) && several(picker) ? box.value.slice(0, start).replace(/,\s*$/, "") : "";
    close(picker);
    box.focus();
    say(picker, picker.dataset.chosenMessage.replace("%s", option.dataset.name));
    changed(picker);
  };

  const unchoose = (picker, chip) => {
    const chips = chipsOf(picker);
    const name = chip.querySelector(".chip-name").textContent;
    const next = chip.nextElementSibling || chip.previousElementSibling;
    chip.remove();
    chips.hidden = chips.children.length === 0;
    (next?.querySelector("[data-remove]") || boxOf(picker)).focus();
    say(picker, picker.dataset.removedMessage.replace("%s", name));
    changed(picker);
  };

  /** Leaving the field: the list closes; a field without expressions drops the words typed
   * (they found nobody), and in a field of one value a text typed replaces the person. */
  const settle = (picker) => {
    close(picker);
    const box = boxOf(picker);
    if (!takesText(picker)) {
      box.value = "";
    } else if (!several(picker) && box.value.trim() && chipsOf(picker).children.length) {
      chipsOf(picker).replaceChildren();
      chipsOf(picker).hidden = true;
    }
  };

  // ---- events -------------------------------------------------------------------------------

  const pickerOfBox = (target) =>
    target instanceof Element && target.matches("[role=combobox]") ? target.closest(PICKER) : null;

  // Captured, so that what is typed to search reaches no form listening for its own fields
  // (the CRM list filters as you type) unless the text is the field's value.
  document.addEventListener(
    "input",
    (event) => {
      const picker = pickerOfBox(event.target);
      if (!picker) return;
      if (!takesText(picker)) event.stopPropagation();
      searchSoon(picker);
    },
    true,
  );

  document.addEventListener(
    "change",
    (event) => {
      const picker = pickerOfBox(event.target);
      if (picker && !takesText(picker)) event.stopPropagation();
    },
    true,
  );

  document.addEventListener("keydown", (event) => {
    const picker = pickerOfBox(event.target);
    if (!picker || event.ctrlKey || event.metaKey) return;
    const options = optionsOf(picker);
    const { active } = stateOf(picker);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!isOpen(picker)) {
        stateOf(picker).activateFirst = !event.altKey;
        search(picker);
      } else if (!event.altKey && options.length) {
        const step = event.key === "ArrowDown" ? 1 : -1;
        activate(picker, active < 0 && step < 0 ? options.length - 1 : (active + step + options.length) % options.length);
      }
    } else if (event.key === "Enter" && isOpen(picker) && active >= 0) {
      choose(picker, options[active]);
    } else if (event.key === "Enter" && stateOf(picker).pending) {
      stateOf(picker).enterPending = true; // not a submission: the list is on its way
    } else if (event.key === "Escape" && isOpen(picker)) {
      close(picker);
    } else if (event.key === "Escape" && !takesText(picker) && event.target.value) {
      event.target.value = "";
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  });

  // The box keeps focus while an option is pressed.
  document.addEventListener("mousedown", (event) => {
    if (event.target instanceof Element && event.target.closest(`${PICKER} [role=option]`)) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const picker = target?.closest(PICKER);
    if (!picker) return;
    const option = target.closest("[role=option]");
    const remove = target.closest("[data-remove]");
    if (option) {
      choose(picker, option);
    } else if (remove) {
      unchoose(picker, remove.closest(".chip"));
    } else if (target.matches("[role=combobox]") && !isOpen(picker)) {
      search(picker);
    }
  });

  document.addEventListener("focusout", (event) => {
    const picker = event.target instanceof Element ? event.target.closest(PICKER) : null;
    if (picker && !picker.contains(event.relatedTarget)) settle(picker);
  });

  // A list fixed to the viewport would float away from its box.
  const closeAll = (event) => {
    if (event.target instanceof Element && event.target.matches("[role=listbox]")) return;
    document.querySelectorAll(`${PICKER} [role=listbox]:not([hidden])`).forEach((list) => close(list.closest(PICKER)));
  };
  window.addEventListener("scroll", closeAll, true);
  window.addEventListener("resize", closeAll);
})();
