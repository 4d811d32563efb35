"""``fincrm bench evaluate`` end to end on a small SQLite book (its numbers are not asserted:
a benchmark, not a timed test; that it runs, measures both paths and says what it measured)."""

import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_the_evaluation_bench_measures_the_next_night_and_its_baseline(tmp_path, capfd):
    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    outputs = []
    for _ in range(2):
        call_command("bench", "evaluate", customers=60, naive_sample=5, database_url=url)
        outputs.append(capfd.readouterr().out)
    dates = [re.search(r"evaluated as of (\d{4}-\d\d-\d\d)", o).group(1) for o in outputs]
    # The second bench evaluates the night after the first one's run.
    assert date.fromisoformat(dates[1]) == date.fromisoformat(dates[0]) + timedelta(days=1)
    for text in outputs:
        assert "bulk (evaluation_run)" in text and "naive per-client loop" in text
        assert re.search(r"ratio fast / naive: [\d,.]+×", text)
    assert "the book's first full run" in outputs[0] and "first full run" not in outputs[1]
    assert "book advanced 1 day(s)" in outputs[0] and "book advanced 1 day(s)" in outputs[1]
    assert "full runs so far: 3" in outputs[1]
