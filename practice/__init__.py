"""interview-practice: offline voice mock interviews for ML and AI roles."""

from practice.models import wait_without_spinning

# First, before any module loads OpenMP (scikit-learn, Whisper's CTranslate2 and torch share one libgomp,
# which reads its settings when it is loaded): see wait_without_spinning.
wait_without_spinning()

from practice.bank import Bank, BankError, KeyPoint, Question, UnknownQuestionError, load_bank  # noqa: E402

__all__ = ["Bank", "BankError", "KeyPoint", "Question", "UnknownQuestionError", "load_bank"]
__version__ = "0.1.0"
