import pytest
from django.core.exceptions import ValidationError

from fincrm.core.masking import mask_middle, shown
from fincrm.core.validators import MSG_BAD_RIC, MSG_BAD_USCC, normalize_ric, normalize_uscc
from fincrm.testing.factories import make_ric, make_uscc


def test_it_accepts_and_compacts_a_valid_credit_code():
    code = make_uscc(1234)
    spaced = f"{code[:6]} {code[6:12]}-{code[12:]}".lower()
    assert normalize_uscc(spaced) == code


def test_it_rejects_a_credit_code_with_a_wrong_check_digit():
    code = make_uscc(1234)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        normalize_uscc(wrong)
    assert exc.value.messages == [str(MSG_BAD_USCC)]


@pytest.mark.parametrize("value", ["", "123", "91110105MA01234567X"])
def test_it_rejects_malformed_credit_codes(value):
    with pytest.raises(ValidationError):
        normalize_uscc(value)


def test_it_accepts_a_valid_resident_id_and_upper_cases_the_x():
    number = make_ric(7)
    assert normalize_ric(number.lower()) == number


def test_it_rejects_an_id_with_an_impossible_birth_date():
    from stdnum.cn import ric

    body = "11010519801301001"  # month 13
    with pytest.raises(ValidationError) as exc:
        normalize_ric(body + ric.calc_check_digit(body + "0"))
    assert exc.value.messages == [str(MSG_BAD_RIC)]


def test_it_rejects_an_id_from_an_unknown_county():
    from stdnum.cn import ric

    body = "99999919800101001"
    with pytest.raises(ValidationError):
        normalize_ric(body + ric.calc_check_digit(body + "0"))


def test_masking_keeps_three_leading_and_four_trailing_characters():
    assert mask_middle("11010519491231002X") == "110***********002X"
    assert mask_middle("13812345678") == "138****5678"
    assert mask_middle("1234") == "****"
    assert mask_middle(None) == ""


def test_shown_unmasks_only_for_roles_that_need_it():
    class Agent:
        may_see_pii = False

    class Manager:
        may_see_pii = True

    assert shown("13812345678", user=Agent()) == "138****5678"
    assert shown("13812345678", user=Manager()) == "13812345678"
