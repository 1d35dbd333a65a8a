"""The Empty block: a named group of blocks that run one after another (Bitrix's
``EmptyBlockActivity``, "Пустой блок"), used to keep a long template readable."""

from django.utils.translation import gettext_lazy

from bizproc.activities.base import Activity, Category, ChildLayout, activities
from bizproc.activities.standard import TITLE


@activities.register
class EmptyBlockActivity(Activity):
    type = "EmptyBlockActivity"
    title = gettext_lazy("Empty block")
    category = Category.CONSTRUCTIONS
    composite = True  # its blocks run in order: the base class's execute and on_child_closed
    child_layout = ChildLayout.LIST  # drawn as one list, like a sequence
    properties = (TITLE,)
