"""The SAM transform run on the client, with `aws-sam-translator` (what the SAM CLI uses): an emulator does not run
it, and a template diff compares plain CloudFormation."""

from __future__ import annotations

import copy
import functools

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

from ci.core.cfn_template import has_sam_transform
from ci.core.errors import UsageError


def translated(template: dict, parameters: dict[str, str], aws: boto3.Session, iam) -> dict:
    """Plain CloudFormation from a packaged SAM template (its CodeUri in S3), for the session's region; a template
    without the SAM transform is returned as it is. `iam` serves AWS managed policy names, if the template uses any."""
    if not has_sam_transform(template):
        return template
    loader = ManagedPolicyLoader(iam)
    translator = Translator(None, Parser(), boto_session=aws)
    fragment, values = copy.deepcopy(template), dict(parameters)
    to_py27_compatible_template(fragment, values)  # as samtranslator's own transform() does
    try:
        result = translator.translate(fragment, parameter_values=values,
                                      get_managed_policy_map=functools.cache(loader.load))
    except InvalidDocumentException as exc:
        causes = "; ".join(str(e) for e in exc.causes)[:400]
        raise UsageError(f"the SAM template does not translate: {causes}") from None
    return undo_mark_unicode_str_in_template(result)
