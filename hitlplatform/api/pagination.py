from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from hitlplatform.ids import id_parse


class DefaultPagination(PageNumberPagination):
    """DRF's page numbers, but a malformed `page` or `page_size` is a 400, never a silent fallback."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings and not (id_parse(raw) or 0) >= 1:
            raise ValidationError({self.page_query_param: [_("A page is a whole number from 1.")]})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = id_parse(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("A page size is a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size
