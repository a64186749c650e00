"""The pipeline search's capped count (issue 19, decision 19-search-1)."""

from __future__ import annotations

KK = {
    "search.summary_more": "{total} өтінімнен астам табылды · {page}-бет",
}
RU = {
    "search.summary_more": "Найдено более {total} · стр. {page}",
}
EN = {
    "search.summary_more": "More than {total} found · page {page}",
}
