"""Plain-text JSON with syntax colours (QSyntaxHighlighter): never HTML, never rich text."""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit

_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*"(?=\s*:))'
    r'|(?P<str>"(?:[^"\\]|\\.)*"?)'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<lit>\b(?:true|false|null)\b)"
    r"|(?P<punct>[{}\[\],:])"
)


def monospace_font() -> QFont:
    f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    f.setStyleHint(QFont.StyleHint.Monospace)
    return f


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Weight.DemiBold)
    if italic:
        f.setFontItalic(True)
    return f


class JsonHighlighter(QSyntaxHighlighter):
    def __init__(self, document, dark: bool = False) -> None:
        super().__init__(document)
        if dark:
            self.formats = {"key": _fmt("#79c0ff", bold=True), "str": _fmt("#a5d6ff"),
                            "num": _fmt("#ffa657"), "lit": _fmt("#d2a8ff", italic=True),
                            "punct": _fmt("#8b949e")}
        else:
            self.formats = {"key": _fmt("#0550ae", bold=True), "str": _fmt("#0a3069"),
                            "num": _fmt("#953800"), "lit": _fmt("#8250df", italic=True),
                            "punct": _fmt("#57606a")}

    def highlightBlock(self, text: str) -> None:
        if len(text) > 20_000:  # one huge line (a compact payload): colour the start only
            text = text[:20_000]
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind:
                self.setFormat(m.start(), m.end() - m.start(), self.formats[kind])


class JsonText(QPlainTextEdit):
    """Read-only monospace text; `highlight=True` colours it as JSON."""

    def __init__(self, parent=None, *, highlight: bool = False, wrap: bool = False) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setFont(monospace_font())
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if wrap
                             else QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabChangesFocus(True)
        dark = self.palette().color(self.backgroundRole()).lightness() < 128
        self.highlighter = JsonHighlighter(self.document(), dark) if highlight else None

    def set_text(self, text: str) -> None:
        self.setPlainText(text)  # plain text: markup in a payload shows as typed
