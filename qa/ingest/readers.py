"""Read articles from files and folders: .txt, .md, .html and .jsonl (one article per line).

Readers never raise for one bad file: they skip it and record why, so one unreadable file
cannot stop a batch. Only a path that does not exist is an error, before anything is touched.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import IngestError
from qa.records import Article
from qa.text.sentences import split_sentences

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".jsonl"}
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class ReadResult:
    """Articles read, plus every file or line that was skipped and why."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. a file read in another encoding

    def skip(self, message: str) -> None:
        log.warning(message)
        self.skipped.append(message)

    def note(self, message: str) -> None:
        log.info(message)
        self.notes.append(message)


def read_paths(paths: Iterable[str | Path]) -> ReadResult:
    """Read every supported file under `paths` (files or folders)."""
    result = ReadResult()
    for file in list_files(paths, result):
        read_file(file, result)
    return result


def list_files(paths: Iterable[str | Path], result: ReadResult) -> list[Path]:
    """The files under `paths` that will be read, in reading order; others are noted as skipped."""
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise IngestError(f"No such file or folder: {', '.join(missing)}")
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.name.startswith("."):
                    continue
                if file.suffix.lower() in SUPPORTED_SUFFIXES:
                    files.append(file)
                else:
                    result.skip(f"{file}: skipped, unsupported file type '{file.suffix}'")
        else:
            files.append(path)
    return files


def read_file(
    path: Path, result: ReadResult, display_name: str | None = None, key: str | None = None
) -> None:
    """Append the article(s) of one file to `result`, or record why it was skipped. An article's
    identity follows `key`, by default the upload's name or else where the file lives."""
    name = display_name or display(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        result.skip(f"{name}: skipped, unsupported file type '{suffix or '(none)'}'")
        return
    text = _read_text(path, name, result)
    if text is None:
        return
    if suffix == ".jsonl":
        _read_jsonl(text, name, result)
        return
    reader = {".html": _parse_html, ".htm": _parse_html, ".md": _parse_markdown}.get(suffix, _parse_plain)
    article = reader(text, name)
    # Identity is where the file lives (or the upload's name), so editing it replaces it.
    article.id = stable_id(key or display_name or str(path.resolve()))
    _add(article, name, result)


def _read_text(path: Path, name: str, result: ReadResult) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            result.skip(
                f"{name}: skipped, {size / 1e6:.0f} MB is over the {MAX_FILE_BYTES // 2**20} MB limit"
            )
            return None
        data = path.read_bytes()
    except OSError as exc:
        result.skip(f"{name}: skipped, cannot be read ({exc.strerror or exc})")
        return None
    if b"\x00" in data[:8192] and not data.startswith(tuple(bom for bom, _ in _BOMS)):
        result.skip(f"{name}: skipped, binary file (not text)")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        decoded = decode_legacy(data)
        if decoded is None:
            result.skip(f"{name}: skipped, not UTF-8 (byte {exc.start}) and not text in another encoding")
            return None
        text, encoding = decoded
        result.note(f"{name}: not UTF-8, read as {encoding}")
    if not text.strip():
        result.skip(f"{name}: skipped, empty file")
        return None
    return text


def decode_legacy(data: bytes) -> tuple[str, str] | None:
    """Decode text that is not UTF-8, or None when it is not confidently text.

    A byte-order mark names UTF-16/32. Otherwise the bytes are read as UTF-8 with each invalid
    byte read as Windows-1252, the encoding English news archives were written in (a pure
    cp1252 file and a UTF-8 file with a stray cp1252 quote both come out right); that reading is
    kept when it is Latin-script text (most letters plain ASCII, no control characters). Other
    text goes to charset-normalizer, which recognises Cyrillic or Greek code pages but cannot
    tell the Latin ones apart on short texts (it reads "Caf\xe9" as Farsi as readily as French).
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), codec
            except UnicodeDecodeError:
                return None
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8", errors=_CP1252_FALLBACK)
    except UnicodeDecodeError:  # a byte cp1252 leaves undefined: not cp1252
        text = None
    if text is not None and _reads_as_latin_text(text):
        pure = text == data.decode("cp1252", errors="replace")
        return text, "cp1252" if pure else "UTF-8 with some cp1252 bytes"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not _reads_as_latin_text(str(best), any_script=True):
        return None
    return str(best), best.encoding


_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
]  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _reads_as_latin_text(text: str, any_script: bool = False) -> bool:
    """No control characters, and (unless `any_script`) at most 30% of letters non-ASCII."""
    if _CONTROL.search(text):
        return False
    if any_script:
        return True
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(not c.isascii() for c in letters) <= 0.3 * len(letters)


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Codecs error handler: an invalid UTF-8 byte is read as Windows-1252."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.start + 1].decode("cp1252"), error.start + 1


_CP1252_FALLBACK = "qa-cp1252-fallback"
codecs.register_error(_CP1252_FALLBACK, _as_cp1252)


def _read_jsonl(text: str, name: str, result: ReadResult) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            result.skip(f"{name}:{number}: skipped, malformed JSON ({exc.msg})")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            result.skip(f"{name}:{number}: skipped, expected an object with a 'text' string")
            continue
        body = record["text"]  # kept verbatim: citation offsets point into the original text
        source = str(record.get("url") or record.get("source") or f"{name}#{number}")
        title = str(record.get("title") or "").strip() or _title_from_text(body, source)
        published = record.get("published") or record.get("date")
        article = Article(
            title=title,
            text=body,
            source=source,
            published=str(published) if published else None,
            id=str(record.get("id") or stable_id(source)),
        )
        _add(article, f"{name}:{number}", result)


def _add(article: Article, name: str, result: ReadResult) -> None:
    article.sentences = split_sentences(article.text)
    if not article.sentences:
        result.skip(f"{name}: skipped, no sentences found")
        return
    result.articles.append(article)


def _parse_plain(text: str, name: str) -> Article:
    # Kept verbatim, so citation offsets are offsets into the file itself.
    return Article(title=_title_from_text(text.strip(), name), text=text, source=name)


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKUP = re.compile(r"(\*\*|__|\*|`)")
_MD_PREFIX = re.compile(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+)", re.M)


def _parse_markdown(text: str, name: str) -> Article:
    text = text.replace("\r\n", "\n")
    meta: dict[str, str] = {}
    front = _FRONT_MATTER.match(text)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            meta[key.strip().lower()] = value.strip().strip("'\"")
        text = text[front.end() :]
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    body = _MD_PREFIX.sub("", _MD_MARKUP.sub("", _MD_LINK.sub(r"\1", text)))
    body = _normalise(body)
    title = meta.get("title") or (heading.group(1).strip() if heading else "")
    return Article(
        title=title or _title_from_text(body, name),
        text=body,
        source=meta.get("source") or meta.get("url") or name,
        published=meta.get("date") or meta.get("published") or None,
    )


def _parse_html(text: str, name: str) -> Article:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")

    def meta(*keys: str) -> str | None:
        for key in keys:
            tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
            if tag and tag.get("content"):
                return str(tag["content"]).strip()
        return None

    title = meta("og:title") or (soup.title.get_text(strip=True) if soup.title else "")
    published = meta("article:published_time", "date", "pubdate", "dc.date")
    time_tag = soup.find("time", attrs={"datetime": True})
    if not published and time_tag:
        published = str(time_tag["datetime"])
    canonical = soup.find("link", attrs={"rel": "canonical"})
    source = meta("og:url") or (str(canonical["href"]) if canonical and canonical.get("href") else name)
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form"]):
        tag.decompose()
    root = soup.find("article") or soup.body or soup
    if not title:
        h1 = root.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else ""
    body = _normalise(root.get_text("\n"))
    return Article(
        title=title or _title_from_text(body, name),
        text=body,
        source=source,
        published=published,
    )


def _normalise(text: str) -> str:
    """Collapse runs of spaces inside lines and drop blank lines, keeping one paragraph a line."""
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _title_from_text(body: str, name: str) -> str:
    """A plain file has no title field: use a short first line, else the start of the text."""
    body = body.strip()
    first = body.split("\n", 1)[0].strip() if body else ""
    if first and len(first) <= 120 and not first.endswith((".", "!", "?")):
        return first
    if first:
        return first if len(first) <= 80 else first[:77].rsplit(" ", 1)[0] + "…"
    return Path(name).stem


def stable_id(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def display(path: Path) -> str:
    """How a file is named in messages and as an article's source: relative to here if it can be."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
