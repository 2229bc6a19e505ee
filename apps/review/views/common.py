"""What every page of the review app shares: the signing session, inline refusals, pagination."""

from collections.abc import Callable

from django.conf import settings
from django.core.paginator import Paginator

from hitlplatform.errors import DomainError

# Set after the first successful signature of a session, cleared at login (21 CFR 11.200).
SIGNING_SESSION_KEY = "signing_session_started"
POST_REVIEWS_TAB = "post"


def username_required(request) -> bool:
    return not request.session.get(SIGNING_SESSION_KEY, False)


def form_written(form, write: Callable[[dict], object]) -> tuple[bool, DomainError | None]:
    """Runs a service with a valid form's data: (written, the service's refusal, shown inline in the form)."""
    if not form.is_valid():
        return False, None
    try:
        write(form.cleaned_data)
    except DomainError as error:
        form_errors(form, error)
        return False, error
    return True, None


def form_errors(form, error: DomainError) -> None:
    """A service's refusal, shown inline next to the fields it names and above the form."""
    for field, field_messages in error.fields.items():
        target = field if field in form.fields else None
        for message in field_messages if isinstance(field_messages, list | tuple) else [field_messages]:
            form.add_error(target, str(message))
    if not error.fields or error.message is not error.default_message:
        form.add_error(None, str(error.message))


def refused(response, error: DomainError | None):
    """A locked signature is 429 with Retry-After on the web as in the API; other refusals stay 400."""
    if error is not None and error.status_code == 429:
        response.status_code = 429
        response["Retry-After"] = str(getattr(error, "retry_after", 1))
    return response


def page_of(request, items, count: int | None = None):
    paginator = Paginator(items, settings.REVIEW_PAGE_SIZE)
    if count is not None:
        paginator.count = count  # a cached_property on Paginator
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
