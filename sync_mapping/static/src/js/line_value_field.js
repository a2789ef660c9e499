import { registry } from "@web/core/registry";
import {
    DynamicModelFieldSelectorChar,
    dynamicModelFieldSelectorChar,
} from "@web/views/fields/dynamic_widget/dynamic_model_field_selector_char";

// the line types whose value is a field of the data type's model
const FIELD_TYPES = ["field", "model", "reference"];

/**
 * The value of a mapping line: a field picker for field, model and reference
 * lines (field lines follow relations: a picked path becomes a template line
 * on the server), free text for templates and Python code.
 */
export class SyncLineValueField extends DynamicModelFieldSelectorChar {
    static template = "sync_mapping.LineValueField";

    get usesPicker() {
        return FIELD_TYPES.includes(this.props.record.data.line_type) && Boolean(this.getResModel());
    }

    get getSelectorProps() {
        return {
            ...super.getSelectorProps,
            followRelations: this.props.record.data.line_type === "field",
        };
    }

    getResModel(props = this.props) {
        // a line edited in its data type's list has the data type's model through its parent
        const record = props.record;
        return record.data[props.resModel] || record.evalContext.parent?.[props.resModel] || false;
    }
}

registry.category("fields").add("sync_line_value", {
    ...dynamicModelFieldSelectorChar,
    component: SyncLineValueField,
});
