"""The review app's speed trick on the request path, with what it saves.

- `FORM_RENDERER`: the review forms render their widgets through Django's own Jinja2 form
  templates instead of its Django-template ones. The markup is the same but for one entity (a
  quote inside a textarea is `&#34;`, not `&quot;`; tests/review/test_form_renderer.py holds them
  equal). A proposal's page renders about forty widget templates (the verdict's radio options and
  their attributes, the payload, signature and reassign fields). Measured with the review
  benchmark's seed (5,000 proposals, SQLite), in-process on this 2-core machine, eight alternating
  runs, the median of each run's best of five: rendering the page's templates 11.5 -> 8.5 ms,
  CPU per detail page 37.8 -> 34.9 ms (-8 %).
"""

from django.forms.renderers import Jinja2

FORM_RENDERER = Jinja2()
