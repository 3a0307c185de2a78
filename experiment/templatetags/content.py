from django import template

register = template.Library()


@register.filter
def tr(obj, field: str):
    """``{{ threat|tr:"description" }}``: experiment content in the student's language (see threats.i18n)."""
    return obj.tr(field)
