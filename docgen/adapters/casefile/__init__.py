"""Case files: the documented YAML/JSON format a conference is imported from and exported to."""

from docgen.adapters.casefile.limits import LIMITS, CaseFileLimits
from docgen.adapters.casefile.loader import load_case_bytes, load_case_file, parse_case_text
from docgen.adapters.casefile.validation import ValidatedCase, validate_case

__all__ = ["LIMITS", "CaseFileLimits", "ValidatedCase", "load_case_bytes", "load_case_file", "parse_case_text", "validate_case"]
