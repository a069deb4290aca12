"""`huying makemessages`: Django's, also reading the lazy-gettext aliases this code uses (`_l`, `_lazy`).

Without them xgettext skips every `gettext_lazy as _l` string (form labels, menu shortcuts), and
those stay Chinese in the English interface.
"""

from django.core.management.commands.makemessages import Command as MakeMessages


class Command(MakeMessages):
    xgettext_options = [*MakeMessages.xgettext_options, "--keyword=_l", "--keyword=_lazy"]
