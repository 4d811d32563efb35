"""Who does what with the knowledge library.

- Reading it: every member of staff with a role (``ArticleQuerySet.restrict``).
- Writing: account managers, team leads, risk officers and admins write drafts; a draft is
  changed by its author, the leads over the author's team, and admins.
- Publishing (and withdrawing): team leads, for the articles of the authors in their teams
  and sub-teams but never their own, and admins. What is published speaks to clients in the
  lender's name (a market view, a client's success story): it is financial marketing, which
  a second person reviews before it goes out. Leads review their team's work already (they
  own its clients and its scorecard); admins are the back-stop for articles of authors
  without a lead, and for leads' own.
"""

from __future__ import annotations

import rules

from fincrm.accounts.choices import Role

from .models import AUTHOR_ROLES


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


@rules.predicate
def reads_library(user) -> bool:
    return _active(user) and (user.is_superuser or bool(user.role))


@rules.predicate
def writes_articles(user) -> bool:
    return _active(user) and (user.is_superuser or user.role in AUTHOR_ROLES)


@rules.predicate
def publishes_articles(user) -> bool:
    return _active(user) and (user.is_superuser or user.role in (Role.ADMIN, Role.TEAM_LEAD))


@rules.predicate
def may_publish(user, article) -> bool:
    """``article`` may be published or withdrawn by ``user`` (None: any article at all)."""
    if not publishes_articles(user):
        return False
    if user.is_superuser or user.role == Role.ADMIN or article is None:
        return True
    author = article.author
    return author.pk != user.pk and author.team_id in user.visible_team_ids()


rules.add_perm("knowledge.view_article", reads_library)
rules.add_perm("knowledge.add_article", writes_articles)
rules.add_perm("knowledge.publish_article", may_publish)
