# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Upload a prepared dataset folder (its card and Parquet shards, as `datasets` lays them out) to a Hub dataset
repository, resumably: files the repository already holds with the same content are not uploaded again, and the
shards go in commits of `files_per_commit`, so an interrupted push loses at most one commit's files. The card
goes in the last commit, with the removal of shards of an earlier, different preparation (`data/` files the
folder no longer has), so that the repository's card always describes shards that are all there.

A dataset whose source forbids redistribution (SSv2) is refused, with the reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

from ..data.sources import SourceInputError

logger = logging.getLogger(__name__)

SSV2_REASON = (
    "Something-Something V2's licence (Qualcomm) allows no redistribution: share the preparation command instead, "
    "each user builds the dataset from their own download"
)
DATA_DIR = "data"


def redistribution_refusal(folder: str | os.PathLike) -> str | None:
    """Why the prepared dataset in `folder` may not be uploaded, or None. Read from its report (the source's
    `redistribution_forbidden`) or card, or, for the SSv2 preparation, from its own report's presence."""
    folder = Path(folder)
    if (folder / "prepare_ssv2_report.json").is_file():
        return SSV2_REASON
    report = folder / "prepare_report.json"
    if report.is_file():
        try:
            data = json.loads(report.read_text())
        except (OSError, ValueError):
            data = {}
        if data.get("redistribution_forbidden"):
            return str(data["redistribution_forbidden"])
        if data.get("source_format") == "ssv2":
            return SSV2_REASON
    card = folder / "README.md"
    if card.is_file():  # the prepared card says so in its text (hub_cards/prepared_dataset_card.md)
        found = re.search(r"Redistribution is forbidden: (.+?); do not upload", card.read_text(encoding="utf-8"))
        if found:
            return found.group(1)
    return None


def _git_blob_sha1(path: Path) -> str:
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unchanged(local: Path, remote) -> bool:
    """Whether the repository's file `remote` (a `RepoFile`) has the content of `local`."""
    if getattr(remote, "size", None) is not None and remote.size != local.stat().st_size:
        return False
    lfs = getattr(remote, "lfs", None)
    if lfs:
        return lfs["sha256"] == _sha256(local)
    return remote.blob_id == _git_blob_sha1(local)


def dataset_upload_files(folder: Path) -> list[Path]:
    """The card and the Parquet shards: what `load_dataset(folder)` reads."""
    files = sorted((folder / DATA_DIR).glob("*.parquet"))
    if (folder / "README.md").is_file():
        files.append(folder / "README.md")
    return files


def push_dataset_to_hub(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    private: bool | None = None,
    token: str | None = None,
    revision: str | None = None,
    files_per_commit: int = 50,
    api=None,
    progress: bool = True,
) -> dict:
    """Upload the prepared dataset in `folder` to the dataset repository `repo_id` (created when absent).

    Returns {"uploaded": [...], "unchanged": [...], "deleted": [...], "commits": n}. Raises `SourceInputError`
    (one line) for a folder that is not a finished prepared dataset, or whose source forbids redistribution.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

    folder = Path(folder)
    reason = redistribution_refusal(folder)
    if reason:
        raise SourceInputError(f"{folder}: not uploaded to {repo_id}: {reason}")
    if not (folder / "README.md").is_file() or not list((folder / DATA_DIR).glob("*.parquet")):
        raise SourceInputError(
            f"{folder}: no finished prepared dataset (README.md and {DATA_DIR}/*.parquet); run the preparation to "
            "the end first"
        )
    api = api or HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    remote = {}
    try:
        for entry in api.list_repo_tree(repo_id, recursive=True, repo_type="dataset", revision=revision):
            if hasattr(entry, "blob_id"):
                remote[entry.path] = entry
    except Exception as error:  # a new, empty repository has no tree yet on some servers
        logger.info("%s: no files listed (%s); uploading everything", repo_id, type(error).__name__)

    files = dataset_upload_files(folder)
    names = {f.relative_to(folder).as_posix(): f for f in files}
    unchanged = [n for n, f in names.items() if n in remote and _unchanged(f, remote[n])]
    todo = [n for n in names if n not in unchanged]
    stale = sorted(n for n in remote if n.startswith(f"{DATA_DIR}/") and n not in names)
    shards, card = [n for n in todo if n != "README.md"], [n for n in todo if n == "README.md"]
    batches = [shards[i : i + files_per_commit] for i in range(0, len(shards), files_per_commit)]
    if card or stale or not batches:
        if batches and len(batches[-1]) < files_per_commit:
            batches[-1] = batches[-1] + card
        else:
            batches.append(card)
    commits = 0
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(names[n].stat().st_size for n in todo), unit="B", unit_scale=True, desc="upload")
    for number, batch in enumerate(batches):
        last = number == len(batches) - 1
        operations = [CommitOperationAdd(path_in_repo=n, path_or_fileobj=str(names[n])) for n in batch]
        if last:
            operations += [CommitOperationDelete(path_in_repo=n) for n in stale]
        if not operations:
            continue
        api.create_commit(
            repo_id,
            operations,
            commit_message=f"Upload prepared dataset ({number + 1}/{len(batches)})",
            repo_type="dataset",
            revision=revision,
        )
        commits += 1
        if bar is not None:
            bar.update(sum(names[n].stat().st_size for n in batch))
    if bar is not None:
        bar.close()
    return {"uploaded": todo, "unchanged": unchanged, "deleted": stale, "commits": commits}
