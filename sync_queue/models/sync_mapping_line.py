from odoo import _, api, models
from odoo.exceptions import ValidationError


def _field_dependencies(field, registry):
    """Every field whose change may change non-stored ``field``: Odoo's own dependency graph, transitively.

    Each dependency path contributes all its fields (the relations on the
    way change the value too); a non-stored field on the way contributes its
    own dependencies.
    """
    found = set()
    todo = [field]
    seen = set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for path in current.resolve_depends(registry):
            for dependency in path:
                if dependency.store:
                    found.add(dependency)
                elif dependency is not current:
                    todo.append(dependency)
    return found


def _unfollowable_reason(field, env):
    """Why the changes of non-stored ``field`` cannot be captured, or None when its dependencies say it all."""
    todo = [field]
    seen = set()
    while todo:
        current = todo.pop()
        if current in seen or current.store:
            continue
        seen.add(current)
        registry = env.registry
        if not registry.field_depends.get(current):
            # env._: this function has no self for Odoo's gettext to find the language by
            context = registry.field_depends_context.get(current)
            if context:
                return env._("%(field)s is not stored and depends only on the context (%(keys)s)",
                             field=current, keys=", ".join(context))
            return env._("%(field)s is not stored and declares nothing it depends on", field=current)
        todo.extend(dependency for path in current.resolve_depends(registry) for dependency in path)
    return None


class SyncMappingLine(models.Model):
    _name = "sync.mapping.line"
    _inherit = ["sync.mapping.line", "sync.capture.config.mixin"]

    @api.constrains("line_type", "value", "data_type_id")
    def _check_capturable(self):
        """A line of a data type that captures changes names a field whose changes can be captured.

        A field that is not stored changes when what it depends on changes,
        and capture follows Odoo's dependency graph there; a field that
        declares no dependency (a compute without ``@api.depends``, one that
        depends only on the context) gives capture nothing to follow.
        """
        for line in self:
            reason = line._capture_refusal()
            if reason:
                raise ValidationError(_(
                    "Line %(prop)r of %(data_type)s cannot be synchronized on change: %(reason)s, so no change of "
                    "it can be seen. Map a stored field it is computed from, or set the data type's trigger to "
                    "manual.", prop=line.name, data_type=line.data_type_id.display_name, reason=reason,
                ))

    def _capture_refusal(self):
        """Why this line's field cannot be captured, or None (also None for a data type that captures nothing)."""
        self.ensure_one()
        data_type = self.data_type_id
        if self.line_type not in ("field", "model", "reference") or data_type.trigger == "manual":
            return None
        model = self.env.get(data_type.model_name or "")
        field = model._fields.get(self.value or "") if model is not None else None
        if field is None or field.store:
            return None
        return _unfollowable_reason(field, self.env)
