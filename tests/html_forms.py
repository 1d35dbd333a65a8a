"""What a browser would submit for a form of a page: tests post a dialog back as it is drawn,
so that they exercise the markup the user has, not a dict written beside it."""

from html.parser import HTMLParser


class _FormFields(HTMLParser):
    """The successful controls of the form ``form_id``, in document order (HTML's form
    submission rules, as far as the designer's dialogs use them: text inputs, checked boxes
    and radios, textareas, selected options; nothing inside a ``<template>``)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.form_depth = 0
        self.template_depth = 0
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.textarea_text: list[str] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.option: dict[str, str | None] | None = None
        self.option_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.in_form = True
        if not self.in_form:
            return
        if tag == "form":
            self.form_depth += 1
        if tag == "template":
            self.template_depth += 1
        if self.template_depth or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.fields.append((name, attributes.get("value") or "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append((name, attributes.get("value") or ""))
        elif tag == "textarea" and name:
            self.textarea, self.textarea_text = name, []
        elif tag == "select" and name:
            self.select, self.options = name, []
        elif tag == "option" and self.select is not None:
            self.option, self.option_text = attributes, []

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea_text.append(data)
        if self.option is not None:
            self.option_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.in_form:
            return
        if tag == "template":
            self.template_depth -= 1
        elif tag == "form":
            self.form_depth -= 1
            self.in_form = self.form_depth > 0
        elif tag == "textarea" and self.textarea is not None:
            # HTML drops one newline right after <textarea>.
            self.fields.append((self.textarea, "".join(self.textarea_text).removeprefix("\n")))
            self.textarea = None
        elif tag == "option" and self.option is not None:
            value = self.option.get("value")
            text = "".join(self.option_text).strip()
            self.options.append((text if value is None else value, "selected" in self.option))
            self.option = None
        elif tag == "select" and self.select is not None:
            chosen = [value for value, selected in self.options if selected]
            if chosen or self.options:
                self.fields.append((self.select, (chosen or [self.options[0][0]])[-1]))
            self.select = None


def submitted(html: str, form_id: str) -> dict[str, list[str]]:
    """The data form ``form_id`` of ``html`` submits as drawn, every value of each name (as
    Django's test client posts lists)."""
    parser = _FormFields(form_id)
    parser.feed(html)
    parser.close()
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data
