"""Local, offline question answering over news articles, answering with cited source sentences.

from qa import ask
answer = ask("Who is the Chinese foreign ministry spokeswoman?")
print(answer)            # short answer with [n] markers, then the numbered source sentences
"""

from qa.answering.answer import Answer, Citation
from qa.answering.assistant import Assistant, ask, get_assistant
from qa.config import Settings
from qa.errors import IndexUnavailable, IngestError, InvalidQuestion, ModelError, QAError, SettingsError

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "IndexUnavailable",
    "IngestError",
    "InvalidQuestion",
    "ModelError",
    "QAError",
    "Settings",
    "SettingsError",
    "ask",
    "get_assistant",
]
