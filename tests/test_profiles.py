"""Journal profiles (press.profiles): picked by one line, overridden by the metadata, checked like the metadata."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import FIXTURES, copy_project, run_cli
from test_review import set_profile

from press.load import load
from press.model import PressError, ReviewLayout
from press.profiles import available


@pytest.fixture
def project(tmp_path) -> Path:
    """The minimal fixture with no journal fields of its own: everything from the profile."""
    root = copy_project(FIXTURES / "minimal", tmp_path / "project")
    set_profile(root, "  name: Journal of Tests\n")
    return root


def own_profile(project: Path, name: str, text: str) -> Path:
    """A profile of the project's own, journals/NAME.yaml."""
    path = project / "journals" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def counts(root: Path) -> dict[str, int | None]:
    result = run_cli("check", "--root", str(root), "--format", "json")
    return {c["name"]: c["limit"] for c in json.loads(result.stdout)["counts"]}


def article_html(root: Path, out: Path) -> str:
    result = run_cli("html", "--root", str(root), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return next(out.glob("*.html")).read_text(encoding="utf-8")


def test_switching_profile_is_one_line_that_changes_style_limits_and_layout(project, tmp_path):
    set_profile(project, "  name: Journal of Tests\n  profile: apa-review\n")
    apa = load(project).metadata.journal
    apa_limits, apa_html = counts(project), article_html(project, tmp_path / "apa")
    set_profile(project, "  name: Journal of Tests\n  profile: vancouver-medical\n")
    vancouver = load(project).metadata.journal
    vancouver_limits, vancouver_html = counts(project), article_html(project, tmp_path / "vancouver")

    assert (apa.csl, vancouver.csl) == ("apa", "nlm-citation-sequence")
    cited = re.compile(r'data-cites="smith2020pain">\(<a href="#ref-smith2020pain" role="doc-biblioref">([^<]+)</a>')
    assert cited.findall(apa_html)[0] == "Smith &amp; Kowalski, 2020"  # author-date
    assert cited.findall(vancouver_html)[0] == "1"  # numeric
    assert apa_limits["main_words"] is None and vancouver_limits["main_words"] == 4000  # check's table
    assert apa_limits["abstract_words"] == vancouver_limits["abstract_words"] == 250
    assert apa.review == ReviewLayout(2.0, "continuous", "in-place", True)
    assert vancouver.review == ReviewLayout(2.0, "page", "end", True)


def test_the_metadata_overrides_the_profile_field_by_field(project):
    set_profile(
        project,
        "  profile: vancouver-medical\n  csl: apa\n  limits:\n    main_words: 9000\n"
        "  review:\n    line_numbers: continuous\n",
    )
    journal = load(project).metadata.journal
    assert journal.csl == "apa"
    assert journal.limits["main_words"] == 9000 and journal.limits["abstract_words"] == 250  # the profile's
    assert journal.review == ReviewLayout(2.0, "continuous", "end", True)  # only line_numbers replaced
    assert journal.required_declarations == ("funding", "conflicts_of_interest", "ethics")


def test_a_manuscript_that_names_no_profile_gets_the_default(project):
    journal = load(project).metadata.journal
    assert journal.profile == "default" and journal.csl == "apa" and journal.limits == {}
    assert journal.review == ReviewLayout()  # the submission is a review manuscript
    assert journal.blinded and journal.references_heading == "References"


def test_review_false_in_the_metadata_keeps_the_typeset_layout(project):
    set_profile(project, "  profile: apa-review\n  review: false\n")
    assert load(project).metadata.journal.review is None


def test_an_unknown_profile_is_an_error_at_its_line_with_a_suggestion(project):
    set_profile(project, "  profile: vancouver-medicl\n")
    result = run_cli("check", "--root", str(project))
    assert result.returncode == 1
    line = (
        project.joinpath("manuscript/metadata.yaml").read_text().splitlines().index("  profile: vancouver-medicl") + 1
    )
    assert (
        f"metadata.yaml:{line}: error[metadata-profile]: unknown journal profile 'vancouver-medicl'"
        in result.stdout + result.stderr
    )
    assert "did you mean 'vancouver-medical'?" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_project_profile_is_used_and_its_errors_name_its_file_and_line(project):
    house = own_profile(
        project, "house", "description: our house rules\ncsl: nlm-citation-sequence\nlimits:\n  main_words: 1200\n"
    )
    set_profile(project, "  profile: house\n")
    journal = load(project).metadata.journal
    assert (journal.csl, journal.limits, journal.profile_path) == (
        "nlm-citation-sequence",
        {"main_words": 1200},
        house,
    )

    own_profile(
        project, "house", "description: our house rules\nlimits:\n  main_word: 1200\nreview:\n  line_spacing: 3\n"
    )
    result = run_cli("check", "--root", str(project))
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output
    assert "journals/house.yaml:3: error[metadata-unknown-field]: unknown field 'limits.main_word'" in output
    assert "did you mean 'main_words'?" in output
    assert "journals/house.yaml:5: error[metadata-type]: field 'review.line_spacing' is the number 3" in output


def test_a_profile_that_is_not_yaml_is_an_error_at_its_line(project):
    own_profile(project, "broken", "description: [unclosed\n")
    set_profile(project, "  profile: broken\n")
    with pytest.raises(PressError) as raised:
        load(project)
    [problem] = raised.value.diagnostics
    assert problem.file.endswith("journals/broken.yaml") and problem.code == "yaml-syntax" and problem.line == 1


def test_a_required_declaration_warns_a_build_and_stops_the_submission(project, tmp_path):
    set_profile(project, "  profile: vancouver-medical\n")
    check = run_cli("check", "--root", str(project))
    assert check.returncode == 0
    assert "warning[declaration-required]" in check.stdout + check.stderr
    assert "requires the declaration 'ethics'" in check.stdout + check.stderr

    submission = run_cli("submission", "--root", str(project), "--out", str(tmp_path / "dist"))
    output = submission.stdout + submission.stderr
    assert submission.returncode == 1 and "Traceback" not in output
    for field in ("funding", "conflicts_of_interest", "ethics"):
        assert (
            f"error[declaration-required]: the journal profile 'vancouver-medical' requires the declaration '{field}'"
            in output
        )
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").glob("*.zip"))


def test_an_article_type_the_profile_does_not_list_is_a_warning(project):
    metadata = project / "manuscript" / "metadata.yaml"
    metadata.write_text(metadata.read_text(encoding="utf-8") + "article_type: Essay\n", encoding="utf-8")
    set_profile(project, "  profile: vancouver-medical\n")
    result = run_cli("check", "--root", str(project))
    assert "warning[article-type-unknown]: article type 'Essay'" in result.stdout + result.stderr


def test_a_profile_limit_is_reported_at_its_line_in_the_profile(project):
    own_profile(project, "tiny", "description: tiny\nlimits:\n  main_words: 3\n")
    set_profile(project, "  profile: tiny\n")
    result = run_cli("check", "--root", str(project))
    assert "journals/tiny.yaml:3: warning[over-limit-main-words]" in result.stdout + result.stderr


def test_profiles_command_lists_each_profile_on_one_line(project):
    own_profile(project, "house", "description: our house rules\n")
    result = run_cli("profiles", "--root", str(project))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    names = [line.split()[0] for line in lines[:-1]]
    assert names == sorted(available(project)) and {"default", "apa-review", "vancouver-medical", "preprint"} <= set(
        names
    )
    assert any(line.startswith("house") and "our house rules" in line and "[project]" in line for line in lines)


def test_every_shipped_profile_is_valid_and_describes_itself_honestly():
    from press.profiles import read_profile

    for name, path in available().items():
        profile = read_profile(name, path)
        assert profile.description and "\n" not in profile.description
        text = path.read_text(encoding="utf-8")
        if name != "default":
            assert "Not any one journal's rules" in text or "preprint" in text  # generic, never attributed


def test_an_edit_to_the_profile_in_use_rebuilds_the_outputs(project, tmp_path):
    own_profile(project, "house", "description: house\ncsl: apa\n")
    set_profile(project, "  profile: house\n")
    out = tmp_path / "out"
    first = article_html(project, out)
    assert "up to date" in run_cli("html", "--root", str(project), "--out", str(out)).stdout
    own_profile(project, "house", "description: house\ncsl: nlm-citation-sequence\n")
    assert first != article_html(project, out)  # the record counts the profile's file as an input


def test_check_ignore_quiets_the_build_but_never_waives_a_journal_s_required_declaration(project, tmp_path):
    set_profile(project, "  profile: vancouver-medical\n")
    metadata = project / "manuscript" / "metadata.yaml"
    metadata.write_text(
        metadata.read_text(encoding="utf-8") + "check:\n  ignore: [declaration-required]\n", encoding="utf-8"
    )
    check = run_cli("check", "--root", str(project))
    assert check.returncode == 0 and "declaration-required" not in check.stdout + check.stderr
    submission = run_cli("submission", "--root", str(project), "--out", str(tmp_path / "dist"))
    assert submission.returncode == 1
    assert "error[declaration-required]" in submission.stdout + submission.stderr
