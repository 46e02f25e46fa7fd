"""Plain records that flow through the pipeline: article -> sentence -> chunk.

Sentences are stored as character offsets into their article's text, so a citation is always
`article.text[start:end]`: an exact sentence of an indexed article by construction.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


@dataclass
class Article:
    title: str
    text: str
    source: str
    published: str | None = None
    id: str = ""
    sentences: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Identity follows the source, not the content, so a changed article replaces itself.
        if not self.id:
            self.id = hashlib.sha1(self.source.encode("utf-8")).hexdigest()[:16]

    @property
    def content_hash(self) -> str:
        payload = "\x1f".join([self.title, self.source, self.published or "", self.text])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def sentence(self, i: int) -> str:
        start, end = self.sentences[i]
        return self.text[start:end]

    def span_text(self, first: int, last: int) -> str:
        """Sentences `first..last` (inclusive) as they stand in the text."""
        return self.text[self.sentences[first][0] : self.sentences[last][1]]

    def to_dict(self) -> dict:
        return asdict(self) | {"sentences": [list(s) for s in self.sentences]}

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        data = dict(data)
        data["sentences"] = [tuple(s) for s in data.get("sentences", [])]
        return cls(**data)


@dataclass
class Chunk:
    """A retrieval unit: consecutive sentences `first..last` (inclusive) of one article."""

    article_id: str
    first: int
    last: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.article_id}:{self.first}-{self.last}"

    @staticmethod
    def parse_id(chunk_id: str) -> tuple[str, int, int]:
        """(article id, first, last) of a `Chunk.id`, as `Answer.retrieved` lists them."""
        article_id, span = chunk_id.rsplit(":", 1)
        first, last = (int(v) for v in span.split("-"))
        return article_id, first, last
