"""Preference data: record formats, validation, readers/writers, dedupe, audit and TRL conversion.

    from alignlab.data import validate_file, load_records, convert_file, audit_file, write_audit

    report = validate_file("prefs.jsonl", "pairwise")          # streaming; report.ok, report.lines()
    records = load_records("prefs.jsonl")                       # validated dicts; DataError on a bad row
    convert_file("prefs.jsonl", "trl.jsonl", to="trl")          # validate + dedupe + TRL format, atomic
    write_audit(audit_file("prefs.jsonl"), "audit/")            # audit.json + audit.html

Records are plain dicts in the four formats documented in `alignlab.data.records`. Importing this package
is cheap: pandas, pyarrow, datasets, matplotlib and jinja2 load only inside the functions that use them.
"""

from alignlab.data.audit import audit_file, write_audit
from alignlab.data.convert import TARGETS, ConvertSummary, convert_file, valid_records
from alignlab.data.dedupe import drop_exact_duplicates, near_key, normalize_text
from alignlab.data.io import RowError, iter_rows, read_rows, write_jsonl, write_rows
from alignlab.data.pairs import expand_ranking_to_pairs, ratings_to_pairs, weighted_score
from alignlab.data.records import (
    DEFAULT_ATTRIBUTES,
    DEFAULT_MAX_CHARS,
    DEFAULT_SCALE,
    FORMATS,
    Message,
    PairwiseRecord,
    RankingRecord,
    RatingsRecord,
    UnpairedRecord,
    canonicalize,
    content_digest,
    record_id,
    text_of,
)
from alignlab.data.sources.hh_rlhf import hh_pair_to_record, parse_transcript
from alignlab.data.tabular import (
    from_dataframe,
    from_hf_dataset,
    load_hf_dataset,
    to_arrow_table,
    to_dataframe,
    to_hf_dataset,
)
from alignlab.data.trl_format import extract_prompt, from_trl, to_trl, to_trl_rows
from alignlab.data.validation import (
    Problem,
    RowChecker,
    ValidationReport,
    iter_records,
    load_records,
    validate_file,
)

__all__ = [
    "DEFAULT_ATTRIBUTES", "DEFAULT_MAX_CHARS", "DEFAULT_SCALE", "FORMATS", "TARGETS",
    "ConvertSummary", "Message", "PairwiseRecord", "Problem", "RankingRecord", "RatingsRecord", "RowChecker",
    "RowError", "UnpairedRecord", "ValidationReport",
    "audit_file", "canonicalize", "content_digest", "convert_file", "drop_exact_duplicates",
    "expand_ranking_to_pairs", "extract_prompt", "from_dataframe", "from_hf_dataset", "from_trl",
    "hh_pair_to_record", "iter_records", "iter_rows", "load_hf_dataset", "load_records", "near_key",
    "normalize_text", "parse_transcript", "ratings_to_pairs", "read_rows", "record_id", "text_of",
    "to_arrow_table", "to_dataframe", "to_hf_dataset", "to_trl", "to_trl_rows", "valid_records",
    "validate_file", "weighted_score", "write_audit", "write_jsonl", "write_rows",
]
