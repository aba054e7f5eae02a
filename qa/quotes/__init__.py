"""Who said what: speech-reporting sentences and their speakers (docs/quotes.md).

``names`` finds people, organisations and titles in an article; ``speech`` reads one sentence
(quotation marks, speech verbs, the subject of the verb); ``attribute`` walks an article's
passages and resolves every speaker to the name the article introduces; ``question`` spots
"what did X say about Y"; ``query`` answers `qa quotes` from the index.
"""
