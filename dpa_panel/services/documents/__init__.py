"""Documents a person receives (issue 18): the subject report, destruction acts, the
disclosure package, breach letters. ``pdf`` holds the font stack and the text rules every
one of them shares; the other modules build one kind of document each.

The standard (docs/decisions.md 18-documents-*): written for the reader — labels and code
values in the reader's language, dates in Almaty time with the offset, no internal ids or
hashes in the body (a labelled "technical evidence" appendix carries them), and no character
of the source text silently lost.
"""
