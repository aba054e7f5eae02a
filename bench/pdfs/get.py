"""Copy the benchmark PDFs listed in SOURCES.md out of local GitHub snapshots into a folder.

The PDFs are not committed (they belong to their publishers); this script copies each one from
a snapshot of its public repository (``git show COMMIT:PATH``), and
cuts the 400-page IRS manual down to the 100 pages the speed benchmark uses.

    .venv/bin/python bench/pdfs/get.py OUT_FOLDER [--speed SPEED_FOLDER] [--mirrors /work/.mirror]

OUT_FOLDER gets the ten PDFs that bench/pdfs/questions.jsonl asks about (the corpus for
``qa bench``); SPEED_FOLDER, when given, the 100-page file of the speed benchmark.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

# (file name, repository, commit, path in the repository)
FILES = [
    ("fedreg-2020-17221.pdf", "jsvine/pdfplumber", "147f2c4c07dc1191fc1d05bb589b4f6af3aaf74a",
     "tests/pdfs/federal-register-2020-17221.pdf"),
    ("wi-dcf-90day-report.pdf", "jsvine/pdfplumber", "147f2c4c07dc1191fc1d05bb589b4f6af3aaf74a",
     "tests/pdfs/150109DSP-Milw-505-90D.pdf"),
    ("cupertino-board-agenda.pdf", "jsvine/pdfplumber",
     "147f2c4c07dc1191fc1d05bb589b4f6af3aaf74a", "tests/pdfs/cupertino_usd_4-6-16.pdf"),
    ("gao-cybersecurity.pdf", "Unstructured-IO/unstructured",
     "3e5482bfcdc843b5218ad98d2845b4b71ab013b7",
     "example-docs/pdf/invalid-pdf-structure-pdfminer-one-page.pdf"),
    ("reliance-annual-report.pdf", "Unstructured-IO/unstructured",
     "3e5482bfcdc843b5218ad98d2845b4b71ab013b7", "example-docs/pdf/reliance.pdf"),
    ("google-environmental-report.pdf", "Unstructured-IO/unstructured",
     "3e5482bfcdc843b5218ad98d2845b4b71ab013b7", "example-docs/pdf/pdf-bad-color-space.pdf"),
    ("breast-cancer-guide.pdf", "Unstructured-IO/unstructured",
     "3e5482bfcdc843b5218ad98d2845b4b71ab013b7", "example-docs/pdf/failure-after-repair.pdf"),
    ("faa-amt-handbook.pdf", "docling-project/docling",
     "e1cb2b234c48ff29746b0f2f843d07f8e23905a0", "tests/data/pdf/sources/amt_handbook_sample.pdf"),
    ("ibm-redpaper-db2-rcac.pdf", "docling-project/docling",
     "e1cb2b234c48ff29746b0f2f843d07f8e23905a0", "tests/data/pdf/sources/redp5110_sampled.pdf"),
    ("unodc-legal-aid.pdf", "docling-project/docling",
     "e1cb2b234c48ff29746b0f2f843d07f8e23905a0",
     "tests/data/pdf/sources/table_mislabeled_as_picture.pdf"),
]
# the speed benchmark's 100-page file: the first 100 pages of this one (not in questions.jsonl)
SPEED = ("irs-irm-100p.pdf", "Unstructured-IO/unstructured",
         "3e5482bfcdc843b5218ad98d2845b4b71ab013b7",
         "example-docs/pdf/pdf2image-memory-error-test-400p.pdf")


def _show(mirrors: Path, repo: str, commit: str, path: str) -> bytes:
    git_dir = mirrors / repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        sys.exit(f"no snapshot of {repo} at {git_dir}: fetch it first (github:{repo})")
    done = subprocess.run(["git", "-C", str(git_dir), "show", f"{commit}:{path}"],
                          capture_output=True, check=False)
    if done.returncode:
        sys.exit(f"{repo}@{commit[:10]}:{path}: {done.stderr.decode().strip()}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--speed", type=Path, help="folder for the 100-page speed file")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, repo, commit, path in FILES:
        (args.out / name).write_bytes(_show(args.mirrors, repo, commit, path))
        print(f"{name} <- {repo}:{path}")
    if args.speed is None:
        return
    name, repo, commit, path = SPEED
    speed_dir = args.speed
    speed_dir.mkdir(parents=True, exist_ok=True)
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(_show(args.mirrors, repo, commit, path))
    dst = pdfium.PdfDocument.new()
    dst.import_pages(src, list(range(100)))
    dst.save(str(speed_dir / name))
    print(f"{speed_dir / name} <- {repo}:{path} (pages 1-100)")


if __name__ == "__main__":
    main()
