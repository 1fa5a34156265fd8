"""Form schemas (JSON Schema + UI schema) and validation of submissions. No DB, no Flask."""
from app.forms.validation import FormBundle, check_schema_file, compile_validator, validate_submission

__all__ = ["FormBundle", "check_schema_file", "compile_validator", "validate_submission"]
