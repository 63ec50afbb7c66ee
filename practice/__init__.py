"""interview-practice: offline voice mock interviews for ML and AI roles."""

from practice.models import wait_without_spinning

# First, before any module loads OpenMP: torch and Whisper's CTranslate2 each bring a libgomp (the one
# scikit-learn brings when sentence-transformers imports it has CTranslate2's name, so only one of those two
# loads), and each copy reads its settings when it is loaded: see wait_without_spinning.
wait_without_spinning()

from practice.bank import Bank, BankError, KeyPoint, Question, UnknownQuestionError, load_bank  # noqa: E402

__all__ = ["Bank", "BankError", "KeyPoint", "Question", "UnknownQuestionError", "load_bank"]
__version__ = "0.1.0"
