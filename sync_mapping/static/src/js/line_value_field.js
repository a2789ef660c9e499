import { registry } from "@web/core/registry";
import { ModelFieldSelector } from "@web/core/model_field_selector/model_field_selector";
import { CharField, charField } from "@web/views/fields/char/char_field";

// the line types whose value is a field of the data type's model
const FIELD_TYPES = ["field", "model", "reference"];

/**
 * The value of a mapping line: a field picker for field, model and reference
 * lines (field lines follow relations: a picked path becomes a template line
 * on the server), free text for templates and Python code.
 *
 * Built on the char field and the core field selector, which Odoo 18.0 and
 * 19.0 both keep where they were (the "dynamic model field selector" widget
 * of 18.0 is gone in 19.0).
 */
export class SyncLineValueField extends CharField {
    static template = "sync_mapping.LineValueField";
    static components = { ...CharField.components, ModelFieldSelector };
    static props = {
        ...CharField.props,
        resModel: { type: String, optional: true },
    };

    get usesPicker() {
        return FIELD_TYPES.includes(this.props.record.data.line_type) && Boolean(this.getResModel());
    }

    get selectorProps() {
        return {
            path: this.props.record.data[this.props.name] || "",
            resModel: this.getResModel(),
            readonly: this.props.readonly,
            update: (path) => this.props.record.update({ [this.props.name]: path }),
            isDebugMode: !!this.env.debug,
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
    ...charField,
    component: SyncLineValueField,
    extractProps(fieldInfo, dynamicInfo) {
        return {
            ...charField.extractProps(fieldInfo, dynamicInfo),
            resModel: fieldInfo.options.model,
        };
    },
});
