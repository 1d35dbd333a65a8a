"""What every registered activity class declares is enough for the designer, which reads the
declarations and never a block's type."""

import pytest

from bizproc.activities import activities
from bizproc.activities.base import ChildLayout


@pytest.mark.parametrize("cls", activities.all(), ids=lambda cls: cls.type)
def test_a_block_that_holds_others_says_how_they_are_drawn(cls) -> None:
    assert cls.composite == (cls.child_layout != ChildLayout.NONE)


@pytest.mark.parametrize(
    "cls",
    [cls for cls in activities.all() if cls.child_layout == ChildLayout.BRANCHES],
    ids=lambda cls: cls.type,
)
def test_the_branch_add_branch_inserts_may_stand_in_its_block(cls) -> None:
    branch = activities.get(cls.branch_type)
    assert activities.is_known(cls.branch_type) and branch.child_layout == ChildLayout.LIST
    assert cls.child_types is None or cls.branch_type in cls.child_types
    assert branch.parent_types is None or cls.type in branch.parent_types
