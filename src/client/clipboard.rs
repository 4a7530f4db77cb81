//! Copying a text to the clipboard for the person (their public id, to give an operator).
//! `navigator.clipboard` is called through `js_sys` so the WASM needs no extra web-sys
//! bindings; native builds have no clipboard.

/// Starts copying `text`; false when this browser offers no clipboard here (then the text is
/// still on screen to select).
#[cfg(feature = "hydrate")]
pub fn copy(text: &str) -> bool {
    use wasm_bindgen::{JsCast, JsValue};
    let navigator = leptos::prelude::window().navigator();
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")) else {
        return false;
    };
    let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    write.is_some_and(|write| write.call1(&clipboard, &JsValue::from_str(text)).is_ok())
}

#[cfg(not(feature = "hydrate"))]
pub fn copy(_text: &str) -> bool {
    false
}
