"""interview-practice: offline voice mock interviews for ML and AI roles."""

from practice.bank import Bank, BankError, KeyPoint, Question, UnknownQuestionError, load_bank

__all__ = ["Bank", "BankError", "KeyPoint", "Question", "UnknownQuestionError", "load_bank"]
__version__ = "0.1.0"
