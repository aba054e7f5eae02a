"""qa: offline semantic question answering over a folder of news articles."""

import os

# Nothing in qa may reach the network: models come from installed packages or local paths.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
