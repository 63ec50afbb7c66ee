"""Streamlit front end (UI only; all logic lives in the `practice` package)."""

import streamlit as st

from practice.bank import BankError, load_bank

st.set_page_config(page_title="Interview practice", page_icon="🎙️")
st.title("Interview practice")

try:
    bank = load_bank()
except BankError as exc:
    st.error(f"The question bank could not be loaded: {exc}")
    st.stop()

st.write(f"{len(bank)} questions in {len(bank.tracks)} tracks.")
