"""Create, update and read schemas of the test-engineering models, one module per concept."""

from tasktracker.testspec.schemas.categories import CategoryCreate, CategoryRead, CategoryUpdate
from tasktracker.testspec.schemas.commands import (
    GenericCommandCreate,
    GenericCommandRead,
    GenericCommandUpdate,
    SignatureEntry,
    SignatureEntryRead,
)
from tasktracker.testspec.schemas.parameters import (
    ParameterCreate,
    ParameterRead,
    ParameterUpdate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from tasktracker.testspec.schemas.requirements import (
    RequirementCreate,
    RequirementRead,
    RequirementTestLinkRead,
    RequirementUpdate,
)
from tasktracker.testspec.schemas.specifications import (
    ArgumentIn,
    ArgumentRead,
    TestSpecificationCreate,
    TestSpecificationRead,
    TestSpecificationUpdate,
    TestStepCreate,
    TestStepRead,
    TestStepUpdate,
)

__all__ = [
    "ArgumentIn",
    "ArgumentRead",
    "CategoryCreate",
    "CategoryRead",
    "CategoryUpdate",
    "GenericCommandCreate",
    "GenericCommandRead",
    "GenericCommandUpdate",
    "ParameterCreate",
    "ParameterRead",
    "ParameterUpdate",
    "RequirementCreate",
    "RequirementRead",
    "RequirementTestLinkRead",
    "RequirementUpdate",
    "SignatureEntry",
    "SignatureEntryRead",
    "TestSpecificationCreate",
    "TestSpecificationRead",
    "TestSpecificationUpdate",
    "TestStepCreate",
    "TestStepRead",
    "TestStepUpdate",
    "VariantCreate",
    "VariantRead",
    "VariantUpdate",
]
