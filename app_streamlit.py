"""xeploai — the Streamlit app (placeholder page until the app issue lands)."""

import streamlit as st

st.set_page_config(page_title="xeploai — Xếp loại chất lượng", layout="wide")
st.title("xeploai — Xếp loại chất lượng hằng năm")
st.info("Giao diện đang được xây dựng. Hiện dùng dòng lệnh: `xeploai check` và `xeploai solve`.")
