"""Who is told what about each domain event, one module per domain (the rules register with
`telling.rule` when imported; `notifications.rules` imports this package, `fanout` reads
`telling.RULES`).

What every rule follows:
- The person concerned, the team, the judge or the organizers — never whoever acted, when
  telling them would only repeat what they just did (a person who left, a captain who removed
  someone, an organizer who resolved a flag).
- Titles and lines written for the person reading them; each links to the page the news is
  about (`links.py`: the real pages of `web/`).
- No second mail: where a plain-text mail already goes out for the same happening (the
  waitlist's "you have a seat", the pipeline's failure mail, the judges' flag mail to the
  organizers, the results mail, an invitation's mail with its token), the rule's message is
  in-app only. A token never goes through the outbox.
"""

from hackops.notifications.rulebook import judging, registrations, submissions, teams

__all__ = ["judging", "registrations", "submissions", "teams"]
