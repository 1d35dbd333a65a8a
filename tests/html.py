"""HTML read the way a user (or a screen reader) meets it, not the way a template spells it.

Tests parse an answer into a tree, then find elements by role and accessible name, form fields
by their label, others by id: markup may change its attribute order, quoting, escaping or
whitespace without breaking them. The roles and names follow HTML-AAM for the elements our pages
use, not the whole specification. (Django's ``parse_html`` is not used: it compares elements to
one another while it builds, which takes seconds on an editor page of 200 blocks.) ``submitted``
gives what a form would post as drawn, so that tests exercise the markup the user has.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.utils.html import VOID_ELEMENTS

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
TEXT_INPUTS = {None, "", "text", "search", "email", "tel", "url"}


@dataclass(eq=False)
class Element:
    name: str
    attrs: dict[str, str | None]  # a boolean attribute (``hidden``, ``disabled``) maps to None
    children: list["Element | str"] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self._open[-1].children.append(element)
        if tag not in VOID_ELEMENTS:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        # It closes the elements left open inside it; one that closes nothing open is ignored.
        if any(element.name == tag for element in self._open[1:]):
            while self._open.pop().name != tag:
                pass

    def handle_data(self, data: str) -> None:
        if data.strip():
            self._open[-1].children.append(data)


def html_parse(markup: str) -> Element:
    """The markup as a tree under a document element (an answer may hold several elements)."""
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


def elements(root: Element) -> Iterator[Element]:
    """Every element under ``root``, ``root`` first, in document order."""
    yield root
    for child in root.children:
        if isinstance(child, Element):
            yield from elements(child)


def text(element: Element) -> str:
    """The text a user reads: parts hidden from everyone (``aria-hidden``, ``hidden``) left out,
    whitespace collapsed. Pieces of text on either side of a tag are joined by a space."""
    parts = []
    for child in element.children:
        if isinstance(child, str):
            parts.append(child)
        elif "hidden" not in child.attrs and child.attrs.get("aria-hidden") != "true":
            parts.append(text(child))
    return " ".join(" ".join(parts).split())


def by_id(root: Element, id_: str) -> Element:
    found = [element for element in elements(root) if element.attrs.get("id") == id_]
    assert len(found) == 1, f"{len(found)} elements with id {id_!r}"
    return found[0]


def role(element: Element) -> str | None:
    """The explicit ``role``, else the element's implicit one."""
    name, attrs = element.name, element.attrs
    if attrs.get("role"):
        return attrs["role"]
    if name == "button" or (name == "input" and attrs.get("type") in {"button", "submit", "reset"}):
        return "button"
    if name == "input" and attrs.get("type") in {"checkbox", "radio"}:
        return attrs["type"]
    if name == "input" and attrs.get("type") in TEXT_INPUTS:
        return "combobox" if "list" in attrs else "textbox"
    if name == "th" and attrs.get("scope") in {"col", "row"}:
        return "columnheader" if attrs["scope"] == "col" else "rowheader"
    if name == "section":  # a region only when named
        return "region" if {"aria-label", "aria-labelledby"} & set(attrs) else None
    return {
        "a": "link" if "href" in attrs else None,
        "textarea": "textbox",
        "select": "combobox",
        "option": "option",
        "optgroup": "group",
        "fieldset": "group",
        "form": "form",
        "dialog": "dialog",
        "li": "listitem",
        "ol": "list",
        "ul": "list",
    }.get(name, "heading" if name in HEADINGS else None)


def accessible_name(root: Element, element: Element) -> str:
    """The name a screen reader announces: ``aria-labelledby`` (ids looked up under ``root``),
    ``aria-label``, a label, the group's label or legend, or (for buttons, links, headings,
    options) the text."""
    attrs = element.attrs
    if attrs.get("aria-labelledby"):
        return " ".join(text(by_id(root, id_)) for id_ in attrs["aria-labelledby"].split())
    if attrs.get("aria-label"):
        return attrs["aria-label"]
    if element.name in {"input", "select", "textarea"}:
        return " ".join(text(label) for label in _labels(root, element))
    if element.name == "optgroup":
        return attrs.get("label") or ""
    if element.name == "fieldset":
        legends = [child for child in elements(element) if child.name == "legend"]
        return text(legends[0]) if legends else ""
    if role(element) in {"button", "link", "heading", "option"}:
        return text(element) or attrs.get("title") or ""
    return attrs.get("title") or ""


def by_role(root: Element, role_: str, name: str | None = None) -> list[Element]:
    """The elements of that role (and that accessible name, when given), in document order."""
    return [
        element
        for element in elements(root)
        if role(element) == role_ and (name is None or accessible_name(root, element) == name)
    ]


def labelled(root: Element, label: str) -> Element:
    """The one form field a user finds by that label (the ``*`` of a required one is hidden)."""
    found = [
        element
        for element in elements(root)
        if element.name in {"input", "select", "textarea"}
        and accessible_name(root, element) == label
    ]
    assert len(found) == 1, f"{len(found)} fields labelled {label!r}"
    return found[0]


def value(control: Element) -> str:
    """What a field holds: an input's value, a textarea's text, a select's chosen option."""
    if control.name == "textarea":
        return "".join(child for child in control.children if isinstance(child, str))
    if control.name == "select":
        options = [option for option in elements(control) if option.name == "option"]
        chosen = [option for option in options if "selected" in option.attrs] or options[:1]
        if not chosen:
            return ""
        return chosen[0].attrs["value"] if "value" in chosen[0].attrs else text(chosen[0])
    return control.attrs.get("value") or ""


def _labels(root: Element, control: Element) -> list[Element]:
    """The labels that name a field: by ``for``, or around it."""
    id_ = control.attrs.get("id")
    return [
        label
        for label in elements(root)
        if label.name == "label"
        and ((id_ and label.attrs.get("for") == id_) or any(e is control for e in elements(label)))
    ]


# ---- what a form submits ----------------------------------------------------------------------


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
