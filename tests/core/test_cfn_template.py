"""CloudFormation YAML read with its short-form tags in the long form, and the SAM transform told apart."""

import pytest

from ci.core.cfn_template import has_sam_transform, load_yaml


def test_short_form_tags_read_in_their_long_form():
    document = load_yaml("A: !Ref Table\nB: !GetAtt Fn.Arn\nC: !Sub 'x-${Stage}'\nD: !Join [',', [a, b]]\n"
                         "E: !If [IsProd, 1, 2]\nF: !Condition IsProd\n")
    assert document == {"A": {"Ref": "Table"}, "B": {"Fn::GetAtt": ["Fn", "Arn"]}, "C": {"Fn::Sub": "x-${Stage}"},
                        "D": {"Fn::Join": [",", ["a", "b"]]}, "E": {"Fn::If": ["IsProd", 1, 2]},
                        "F": {"Condition": "IsProd"}}


@pytest.mark.parametrize(("transform", "expected"), [
    ("AWS::Serverless-2016-10-31", True), (["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"], True),
    ("AWS::LanguageExtensions", False), (None, False), (3, False)])
def test_the_sam_transform_alone_or_among_others(transform, expected):
    assert has_sam_transform({"Transform": transform} if transform is not None else {}) is expected
