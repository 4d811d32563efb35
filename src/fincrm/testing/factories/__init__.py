"""factory_boy factories for every model of the project, one module per area.

``from fincrm.testing.factories import CustomerFactory`` keeps working: the package exports
each module's public names (the factories, ``PASSWORD``, ``make_uscc``, ``make_ric``,
``monthly_schedule``). ``tests/test_factories.py`` checks that every project model has a
factory here and that each one saves a row that passes ``full_clean()``.
"""

from .accounts import *  # noqa: F403
from .checks import *  # noqa: F403
from .customers import *  # noqa: F403
from .engagement import *  # noqa: F403
from .evaluation import *  # noqa: F403
from .financing import *  # noqa: F403
from .knowledge import *  # noqa: F403
from .postloan import *  # noqa: F403
from .service import *  # noqa: F403
from .staff import *  # noqa: F403
